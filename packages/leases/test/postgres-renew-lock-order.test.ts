import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
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

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** PostgreSQL's SQLSTATE of a transaction aborted to break a deadlock, anywhere in an error's cause chain. */
function isDeadlock(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e !== undefined && e !== null; ) {
    if (e.code === "40P01") return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * `renewMany` and a fenced batch (ADR 0132: `FOR SHARE ... ORDER BY key COLLATE "C"`) lock the same lease rows.
 * Unless both take the locks in key byte order, a renewal and a batch that meet in the middle deadlock and
 * PostgreSQL aborts one after `deadlock_timeout` (a failed renewal round, or a batch of persists whose outcome
 * is unknown). The table is laid out so that the order a plan would lock in by itself is the reverse of key
 * order: the rows were inserted in descending key order and the keeper renews a part of a bigger table, which
 * the planner answers with a sequential scan of the table hashed against the keys (physical order, ADR 0137).
 * A fenced batch is played by an open transaction running the same `FOR SHARE` check (`table.fenceSql`) one
 * key after the other, in ascending order, as the batch statement does.
 */
describe("PostgresLeaseStore renewMany against fenced batches over the same keys", () => {
  const schema = uniqueSchemaName("leases_lock_order");
  const KEYS = 24;
  const TABLE_ROWS = 8 * KEYS;
  let pool: pg.Pool;
  let store: PostgresLeaseStore;
  let grants: LeaseGrant[];

  beforeAll(async () => {
    pool = await testPool(4);
    store = await PostgresLeaseStore.create({ pool, schema, ttlMs: 600_000 });
    grants = [];
    for (let i = TABLE_ROWS - 1; i >= 0; i--) {
      const grant = await store.tryAcquire(`order.k${String(i).padStart(4, "0")}`, "keeper");
      if (grant === undefined) throw new Error(`order.k${i} is taken`);
      if (i < KEYS) grants.unshift(grant);
    }
    await pool.query(`ANALYZE ${store.table.qualifiedName}`);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  /** An open transaction that locks lease rows `FOR SHARE` as a fenced batch does, one call at a time. */
  async function fencedBatchTransaction() {
    const client = await pool.connect();
    await client.query("BEGIN");
    const pid = ((await client.query("SELECT pg_backend_pid() AS pid")).rows[0] as { pid: number }).pid;
    return {
      /** Locks `grant`'s row; rejects with the server's error (a deadlock: 40P01). */
      async lock(grant: LeaseGrant): Promise<void> {
        const { rows } = await client.query(store.table.fenceSql("$1", "$2", "$3"), [
          grant.key,
          grant.owner,
          grant.epoch,
        ]);
        expect(rows).toHaveLength(1);
      },
      /** Resolves once another backend waits for this transaction (no timing: polls `pg_blocking_pids`). */
      async blocking(): Promise<void> {
        for (;;) {
          const { rows } = await pool.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))",
            [pid],
          );
          if ((rows[0] as { n: number }).n > 0) return;
          await sleep(5);
        }
      },
      async end(): Promise<void> {
        try {
          await client.query("ROLLBACK");
        } finally {
          client.release();
        }
      },
    };
  }

  /** The keys among `grants` whose rows someone holds a lock on that conflicts with `FOR SHARE`. */
  async function lockedForUpdate(): Promise<string[]> {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const { rows } = await client.query(
        `SELECT key FROM ${store.table.qualifiedName} WHERE key = ANY ($1::text[]) FOR SHARE SKIP LOCKED`,
        [grants.map((g) => g.key)],
      );
      const free = new Set(rows.map((row) => (row as { key: string }).key));
      return grants.map((g) => g.key).filter((key) => !free.has(key));
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  }

  it("locks the rows in key order: blocked on one key, it holds exactly the keys below it", async () => {
    const middle = Math.floor(KEYS / 2);
    const batch = await fencedBatchTransaction();
    let renewal: Promise<(LeaseGrant | undefined)[]> | undefined;
    try {
      await batch.lock(grants[middle]!);
      renewal = store.renewMany(grants);
      await batch.blocking();
      expect(await lockedForUpdate()).toEqual(grants.slice(0, middle).map((g) => g.key));
    } finally {
      await batch.end();
    }
    const renewed = await renewal;
    expect(renewed.map((g) => g?.key)).toEqual(grants.map((g) => g.key));
    grants = renewed as LeaseGrant[];
  });

  it("does not deadlock with a fenced batch that holds the first key and then checks the last", async () => {
    const batch = await fencedBatchTransaction();
    let renewal: Promise<(LeaseGrant | undefined)[]> | undefined;
    let batchError: unknown;
    try {
      await batch.lock(grants[0]!);
      renewal = store.renewMany(grants);
      await batch.blocking();
      // The renewal waits for the first key; in key order it has locked nothing else yet, so the batch gets
      // the last key at once. In any other order the renewal holds it, and the two wait for each other.
      await batch.lock(grants[KEYS - 1]!).catch((err: unknown) => {
        batchError = err;
      });
    } finally {
      await batch.end();
    }
    const renewalError = await renewal!.then(
      (renewed) => {
        grants = renewed as LeaseGrant[];
        return undefined;
      },
      (err: unknown) => err,
    );
    expect({
      batch: isDeadlock(batchError) ? "deadlock" : String(batchError ?? "ok"),
      renewal: isDeadlock(renewalError) ? "deadlock" : String(renewalError ?? "ok"),
    }).toEqual({ batch: "ok", renewal: "ok" });
  });

  it("never deadlocks with a fenced log's batches over the same keys, renewing back to back for many rounds", async () => {
    const log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 2,
      logger: silentLogger,
      fencing: { leaseTable: store.table },
    });
    let deadlocks = 0;
    const otherErrors: unknown[] = [];
    let renewals = 0;
    let done = false;
    try {
      const renewer = (async () => {
        while (!done) {
          try {
            const renewed = await store.renewMany(grants);
            expect(renewed.every((g) => g !== undefined)).toBe(true);
            renewals++;
          } catch (err) {
            if (isDeadlock(err)) deadlocks++;
            else otherErrors.push(err);
          }
        }
      })();
      // Each round: one fenced persist per key at once, committed in a few batches, each checking (and
      // locking) the rows of many keys.
      const seqNos = new Array<number>(KEYS).fill(0);
      for (let round = 0; round < 40; round++) {
        await Promise.all(
          grants.map(async (grant, i) => {
            const fence = { key: grant.key, owner: grant.owner, epoch: grant.epoch };
            const events = [{ bytes: encoder.encode(`${round}`) }];
            try {
              seqNos[i] = (await log.persist("order", `e${i}`, seqNos[i]!, events, { fence })).seqNo;
            } catch (err) {
              if (isDeadlock(err)) deadlocks++;
              else otherErrors.push(err);
              seqNos[i] = await log.lastSeqNo("order", `e${i}`);
            }
          }),
        );
      }
      done = true;
      await renewer;
    } finally {
      done = true;
      await log.close();
    }
    expect(otherErrors).toEqual([]);
    expect(renewals).toBeGreaterThan(0);
    expect(deadlocks).toBe(0);
  }, 120_000);
});
