import type { LeaseGrant } from "@eventsourced/leases";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../evtlog-postgres/test/pg-test-database.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * ADR 0131: an acquire never waits on a lease row someone else has locked. The lock is held by an open
 * transaction on a separate connection, exactly like a strict-fencing batch of a node frozen between its
 * fence check and its COMMIT. "Did not wait" is asserted without timing: the operations race against a
 * watcher that resolves as soon as any backend is blocked by the holding transaction (`pg_blocking_pids`).
 */
describe("PostgresLeaseStore acquire with the lease row locked by another transaction", () => {
  const schema = uniqueSchemaName("leases_skip_locked");
  let pool: pg.Pool;
  let store: PostgresLeaseStore;
  let counter = 0;
  const key = (label: string) => `skip.${label}.${++counter}`;

  beforeAll(async () => {
    pool = await testPool(3);
    // Its own pool of two connections (the default), with the store's per-statement timeout of one TTL.
    store = await PostgresLeaseStore.create({ connectionString: DATABASE_URL, schema, ttlMs: 300 });
  });
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  /** Waits until the store no longer reports a holder of `k` (a read that takes no lock). */
  async function expired(k: string): Promise<void> {
    for (let i = 0; i < 1_000; i++) {
      if ((await store.holder(k)) === undefined) return;
      await sleep(20);
    }
    throw new Error(`${k} never expired`);
  }

  /**
   * A transaction on its own connection that has run the strict-fencing check on `grant`'s row (a `FOR SHARE`
   * lock) and stays open until `end()`; `blocked` resolves once any other backend waits for it.
   */
  async function holdFenceLock(grant: LeaseGrant) {
    const client = await pool.connect();
    await client.query("BEGIN");
    const { rows } = await client.query(store.table.fenceSql("$1", "$2", "$3"), [
      grant.key,
      grant.owner,
      grant.epoch,
    ]);
    expect(rows).toHaveLength(1);
    const pid = ((await client.query("SELECT pg_backend_pid() AS pid")).rows[0] as { pid: number }).pid;
    let open = true;
    const blocked = (async () => {
      while (open) {
        const { rows: waiting } = await pool.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))",
          [pid],
        );
        if ((waiting[0] as { n: number }).n > 0) return "blocked" as const;
        await sleep(5);
      }
      return "ended" as const;
    })();
    return {
      blocked,
      async end(): Promise<void> {
        open = false;
        try {
          await client.query("COMMIT");
        } finally {
          client.release();
        }
        await blocked;
      },
    };
  }

  /** `work`'s result, or "blocked" if it waits on the holder's lock first. */
  async function unlessBlocked<T>(
    lock: { blocked: Promise<"blocked" | "ended"> },
    work: Promise<T>,
  ): Promise<{ done: T } | "blocked" | "ended"> {
    return Promise.race([work.then((done) => ({ done })), lock.blocked]);
  }

  it("returns no grant at once for an expired row locked FOR SHARE, and takes it over with the next epoch once the lock is gone", async () => {
    const k = key("expired");
    const a = (await store.tryAcquire(k, "A"))!;
    const lock = await holdFenceLock(a);
    try {
      // Locked while live: not acquirable, and no wait either (the filter rejects it before any lock).
      expect(await unlessBlocked(lock, store.tryAcquire(k, "B"))).toEqual({ done: undefined });
      await expired(k);
      expect(await unlessBlocked(lock, store.tryAcquire(k, "B"))).toEqual({ done: undefined });
      // Still nobody waiting behind the open transaction.
      expect(await unlessBlocked(lock, store.holder(k))).toEqual({ done: undefined });
    } finally {
      await lock.end();
    }
    expect(await store.tryAcquire(k, "B")).toMatchObject({ key: k, owner: "B", epoch: a.epoch + 1 });
  });

  it("acquires other keys, renews and releases other leases while a row is locked and acquires of it pile up", async () => {
    const locked = key("locked");
    const a = (await store.tryAcquire(locked, "A"))!;
    const expiring = key("expiring");
    const old = (await store.tryAcquire(expiring, "A"))!;
    const lock = await holdFenceLock(a);
    try {
      await expired(locked);
      await expired(expiring);
      const live = (await store.tryAcquire(key("live"), "C"))!;
      const live2 = (await store.tryAcquire(key("live"), "C"))!;
      const toRelease = (await store.tryAcquire(key("released"), "C"))!;
      // More acquires of the locked row than the store has connections, then everything else behind them.
      const outcome = await unlessBlocked(
        lock,
        Promise.all([
          store.tryAcquire(locked, "B"),
          store.tryAcquire(locked, "C"),
          store.tryAcquire(locked, "D"),
          store.tryAcquire(key("free"), "B"),
          store.tryAcquire(expiring, "B"),
          store.renew(live),
          store.renewMany([live2, live]),
          store.release(toRelease),
        ]),
      );
      expect(outcome).toEqual({
        done: [
          undefined,
          undefined,
          undefined,
          expect.objectContaining({ owner: "B", epoch: 1 }),
          expect.objectContaining({ owner: "B", epoch: old.epoch + 1 }),
          expect.objectContaining({ key: live.key, epoch: live.epoch }),
          [expect.objectContaining({ key: live2.key }), expect.objectContaining({ key: live.key })],
          true,
        ],
      });
    } finally {
      await lock.end();
    }
    expect((await store.tryAcquire(locked, "B"))?.epoch).toBe(a.epoch + 1);
  });

  it("lets exactly one of many concurrent acquirers take over an expired row, with the next epoch", async () => {
    const racing = await PostgresLeaseStore.create({
      connectionString: DATABASE_URL,
      schema,
      // Long enough that each round's row stays live under any load; each round ends it by releasing.
      ttlMs: 60_000,
      maxConnections: 8,
      setup: false,
    });
    try {
      const k = key("race");
      let epoch = 0;
      for (let round = 0; round < 5; round++) {
        const grants = await Promise.all(
          Array.from({ length: 8 }, (_, i) => racing.tryAcquire(k, `owner-${round}-${i}`)),
        );
        const winners = grants.filter((g) => g !== undefined);
        expect(winners).toHaveLength(1);
        // A free key starts at epoch 1; every takeover adds exactly one.
        expect(winners[0]!.epoch).toBe(epoch + 1);
        epoch = winners[0]!.epoch;
        expect(await racing.holder(k)).toEqual({ key: k, owner: winners[0]!.owner, epoch });
        // A live row is never taken, by anyone.
        expect(
          await Promise.all([racing.tryAcquire(k, "late"), racing.tryAcquire(k, winners[0]!.owner)]),
        ).toEqual([undefined, undefined]);
        expect(await racing.release(winners[0]!)).toBe(true); // expires the row now, epoch kept
        await expired(k);
      }
    } finally {
      await racing.close();
    }
  });
});
