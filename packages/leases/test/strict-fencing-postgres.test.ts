import {
  ConfigurationError,
  InvalidArgumentError,
  isEventSourcedError,
  OwnershipLostError,
  SeqNoConflictError,
  silentLogger,
  supportsBulkReads,
  supportsRetention,
} from "@eventsourced/core";
import {
  type PersistFence,
  type PgClientLike,
  type PgPoolLike,
  PostgresEvtLog,
} from "@eventsourced/evtlog-postgres";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  logLockHolders,
  testPool,
  uniqueSchemaName,
} from "../../evtlog-postgres/test/pg-test-database.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const evt = (text: string) => ({ bytes: encoder.encode(text) });

async function texts(log: PostgresEvtLog, type: string, id: string): Promise<string[]> {
  const out: string[] = [];
  for await (const record of log.evtsById(type, id, { from: 1 })) out.push(decoder.decode(record.bytes));
  return out;
}

describe("strict fencing (L2) of the PostgreSQL log with the lease table", () => {
  const schema = uniqueSchemaName("strict_fencing");
  let pool: pg.Pool;
  let store: PostgresLeaseStore;
  let log: PostgresEvtLog;

  beforeAll(async () => {
    pool = await testPool(2);
    store = await PostgresLeaseStore.create({ pool, schema, ttlMs: 300 });
    log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 3,
      logger: silentLogger,
      fencing: { leaseTable: store.table },
    });
  });
  afterAll(async () => {
    await log?.close();
    await store?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  /** Acquires `key` for `owner`, waiting for a previous tenure to expire. */
  async function acquire(key: string, owner: string): Promise<PersistFence> {
    for (let i = 0; i < 200; i++) {
      const grant = await store.tryAcquire(key, owner);
      if (grant !== undefined) return { key, owner, epoch: grant.epoch };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`could not acquire ${key}`);
  }

  it("commits a fenced persist under the live tenure, and refuses it with OwnershipLostError, writing nothing, once the lease was taken over", async () => {
    const old = await acquire("shard.fence.1", "node-a");
    const shardLog = log.fenced(old);
    expect(await shardLog.persist("fenced", "e1", 0, [evt("a1")])).toMatchObject({ seqNo: 1 });
    const taken = await acquire("shard.fence.1", "node-b");
    expect(taken.epoch).toBe(old.epoch + 1);
    const err = await shardLog.persist("fenced", "e1", 1, [evt("stale")]).catch((e: unknown) => e);
    expect(isEventSourcedError(err, "OWNERSHIP_LOST")).toBe(true);
    expect(err).toBeInstanceOf(OwnershipLostError);
    expect((err as Error).message).toContain(`epoch ${old.epoch}`);
    // The fence check is part of the batch statement (ADR 0132): with every fence lost it writes nothing and
    // releases the log lock all the same.
    expect(await logLockHolders(pool, schema)).toBe(0);
    expect(await texts(log, "fenced", "e1")).toEqual(["a1"]);
    expect(await log.fenced(taken).persist("fenced", "e1", 1, [evt("b2")])).toMatchObject({ seqNo: 2 });
    // Reads through a view of an ended tenure still see everything, in bulk too.
    const bulk: string[] = [];
    for await (const r of shardLog.evtsByIds("fenced", [{ id: "e1", from: 1, to: 2 }])) {
      bulk.push(`${r.id}:${decoder.decode(r.bytes)}`);
    }
    expect(bulk).toEqual(["e1:a1", "e1:b2"]);
  });

  it("refuses a persist under an expired or released tenure even when nobody took it over", async () => {
    const expired = await acquire("shard.fence.2", "node-a");
    await new Promise((resolve) => setTimeout(resolve, 400));
    await expect(log.fenced(expired).persist("fenced", "e2", 0, [evt("x")])).rejects.toBeInstanceOf(
      OwnershipLostError,
    );
    const released = await acquire("shard.fence.2", "node-a");
    await store.release({ ...released, sentAt: 0n, ttlMs: 300, revision: released.epoch });
    await expect(log.fenced(released).persist("fenced", "e2", 0, [evt("x")])).rejects.toBeInstanceOf(
      OwnershipLostError,
    );
    expect(await log.lastSeqNo("fenced", "e2")).toBe(0);
  });

  it("fails only the persist whose tenure is over; the other persists of its batch commit", async () => {
    const live = await acquire("shard.fence.3", "node-a");
    const stale = { ...live, epoch: live.epoch - 1 < 1 ? live.epoch + 7 : live.epoch - 1 };
    const before = log.stats;
    const results = await Promise.allSettled([
      log.persist("fenced", "b1", 0, [evt("live")], { fence: live }),
      log.persist("fenced", "b2", 0, [evt("stale")], { fence: stale }),
      log.persist("fenced", "b3", 0, [evt("unfenced"), evt("two")]),
      log.persist("fenced", "b4", 0, [evt("live-too")], { fence: live }),
    ]);
    expect(log.stats.batches - before.batches).toBe(1);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(OwnershipLostError);
    expect(await texts(log, "fenced", "b1")).toEqual(["live"]);
    expect(await texts(log, "fenced", "b2")).toEqual([]);
    expect(await texts(log, "fenced", "b3")).toEqual(["unfenced", "two"]);
    expect(await texts(log, "fenced", "b4")).toEqual(["live-too"]);
  });

  it("fences by owners with quotes, backslashes, commas and braces, and refuses odd keys cleanly (array elements)", async () => {
    const awkward = [`owner "a,b"`, "back\\slash\\", "{braces}", "ünï cødé, NULL"];
    // A store on the same table with a long TTL: the tenures must outlive the test however loaded the host.
    const longStore = await PostgresLeaseStore.create({ pool, schema, ttlMs: 60_000 });
    const fences = await Promise.all(
      awkward.map(async (owner, i) => {
        const grant = await longStore.tryAcquire(`shard.awkward.${i}`, owner);
        if (grant === undefined) throw new Error(`shard.awkward.${i} is taken`);
        return { key: grant.key, owner: grant.owner, epoch: grant.epoch };
      }),
    );
    const results = await Promise.all(
      fences.map((fence, i) => log.fenced(fence).persist("awkward", `e${i}`, 0, [evt(`ok${i}`)])),
    );
    expect(results.map((r) => r.seqNo)).toEqual([1, 1, 1, 1]);
    // No lease has such a key (lease keys are dotted words), but the log takes any key without NUL: it must
    // be refused as not live, not fail the statement.
    const odd = await Promise.allSettled([
      log.fenced({ ...fences[0]!, owner: "NULL" }).persist("awkward", "e0", 1, [evt("no")]),
      log.fenced({ ...fences[1]!, key: `{"x\\",NULL}` }).persist("awkward", "e1", 1, [evt("no")]),
      log.fenced(fences[2]!).persist("awkward", "e2", 1, [evt("yes")]),
    ]);
    expect(odd.map((r) => (r.status === "rejected" ? (r.reason as Error).name : "ok"))).toEqual([
      "OwnershipLostError",
      "OwnershipLostError",
      "ok",
    ]);
    expect(await texts(log, "awkward", "e0")).toEqual(["ok0"]);
    expect(await texts(log, "awkward", "e2")).toEqual(["ok2", "yes"]);
    await longStore.close();
  });

  it("refuses a malformed fence with InvalidArgumentError and a fence on a log without fencing with ConfigurationError", async () => {
    // Retention and bulk reads pass through, so a cluster's retention policy keeps working on fenced logs and
    // bulk recovery (Entity.spawnMany) through them reads in bulk.
    expect(supportsRetention(log.fenced({ key: "k", owner: "a", epoch: 1 }))).toBe(true);
    expect(supportsBulkReads(log.fenced({ key: "k", owner: "a", epoch: 1 }))).toBe(true);
    expect(() => log.fenced({ key: "", owner: "a", epoch: 1 })).toThrow(InvalidArgumentError);
    expect(() => log.fenced({ key: "k", owner: "a", epoch: 0 })).toThrow(InvalidArgumentError);
    await expect(
      log.persist("fenced", "x", 0, [evt("x")], { fence: { key: "k", owner: "", epoch: 1 } }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    const plain = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 1,
      logger: silentLogger,
    });
    try {
      expect(() => plain.fenced({ key: "k", owner: "a", epoch: 1 })).toThrow(ConfigurationError);
    } finally {
      await plain.close();
    }
    await expect(
      PostgresEvtLog.create({
        connectionString: DATABASE_URL,
        schema,
        fencing: { leaseTable: { qualifiedName: "leases; DROP TABLE x" } },
      }),
    ).rejects.toBeInstanceOf(ConfigurationError);
  });

  it("lets no event of the superseded epoch commit after a concurrent takeover, and acknowledges exactly what it wrote", async () => {
    const key = "shard.fence.race";
    const entities = Array.from({ length: 12 }, (_, i) => `r${i}`);
    const old = await acquire(key, "node-a");
    const oldLog = log.fenced(old);
    const acked = new Map<string, string[]>();
    const refused = new Map<string, string[]>();
    let lost = 0;
    // The old owner keeps writing on every entity (several persists per batch) without renewing.
    const writers = entities.map(async (id) => {
      let seqNo = 0;
      for (let n = 0; ; n++) {
        const text = `old:${id}:${n}`;
        try {
          seqNo = (await oldLog.persist("race", id, seqNo, [evt(text)])).seqNo;
          acked.set(id, [...(acked.get(id) ?? []), text]);
        } catch (err) {
          refused.set(id, [...(refused.get(id) ?? []), text]);
          if (err instanceof OwnershipLostError) {
            lost++;
            return;
          }
          if (!(err instanceof SeqNoConflictError)) throw err;
          seqNo = await log.lastSeqNo("race", id);
        }
      }
    });
    // The new owner takes over as soon as the lease expires and reads each entity's head at once.
    const taken = await acquire(key, "node-b");
    const heads = new Map(
      await Promise.all(entities.map(async (id) => [id, await log.lastSeqNo("race", id)] as const)),
    );
    await Promise.all(writers);
    expect(lost).toBe(entities.length);
    const newLog = log.fenced(taken);
    for (const id of entities) {
      // Keep the short lease alive while checking (each check takes a few round trips).
      expect(await store.renew({ ...taken, sentAt: 0n, ttlMs: 300, revision: taken.epoch })).toBeDefined();
      // The new owner's first write expects the head it read right after the takeover: no old-epoch event
      // may have committed since, or this would conflict.
      await newLog.persist("race", id, heads.get(id)!, [evt(`new:${id}`)]);
      const stored = await texts(log, "race", id);
      expect(stored).toEqual([...(acked.get(id) ?? []), `new:${id}`]);
      for (const text of refused.get(id) ?? []) expect(stored).not.toContain(text);
    }
  }, 30_000);

  it("never holds the log lock while the writer is between round trips: a writer frozen there blocks no other writer", async () => {
    // A pool whose clients can freeze right after a statement returns, as a process stopped (SIGSTOP, a frozen
    // VM) between two round trips of a batch would. Before ADR 0132 a fenced batch took the log lock in one
    // round trip and released it two later (fence check, then the write): frozen in between, it held every
    // writer of the log for up to the 10 s idle-in-transaction timeout.
    const inner = await testPool(3);
    let freeze: { readonly frozen: () => void; readonly thawed: Promise<void> } | undefined;
    const freezable: PgPoolLike = {
      query: (...args: unknown[]) => (inner.query as (...a: unknown[]) => Promise<pg.QueryResult>)(...args),
      connect: async () => {
        const client = await inner.connect();
        const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
        (client as unknown as { query: (...a: unknown[]) => Promise<unknown> }).query = async (...args) => {
          const result = await query(...args);
          const now = freeze;
          if (now !== undefined) {
            freeze = undefined;
            now.frozen();
            await now.thawed;
          }
          return result;
        };
        return client as unknown as PgClientLike;
      },
    };
    const longStore = await PostgresLeaseStore.create({ pool, schema, ttlMs: 60_000 });
    const frozenLog = await PostgresEvtLog.create({
      pool: freezable,
      schema,
      maxConnections: 3,
      logger: silentLogger,
      fencing: { leaseTable: store.table },
    });
    try {
      // A long tenure (a store on the same table with a long TTL): the test is about the log lock, not expiry.
      const grant = await longStore.tryAcquire("shard.fence.frozen", "node-a");
      if (grant === undefined) throw new Error("shard.fence.frozen is taken");
      const fence = { key: grant.key, owner: grant.owner, epoch: grant.epoch };
      const shardLog = frozenLog.fenced(fence);
      await shardLog.persist("frozen", "f1", 0, [evt("warm-up")]);
      let thaw!: () => void;
      const thawed = new Promise<void>((resolve) => {
        thaw = resolve;
      });
      const frozen = new Promise<void>((resolve) => {
        freeze = { frozen: resolve, thawed };
      });
      const written = shardLog.persist("frozen", "f1", 1, [evt("after-the-freeze")]);
      await frozen;
      try {
        expect(await logLockHolders(pool, schema)).toBe(0);
        // Another writer of the log (its own connections, as another process would have) goes on meanwhile.
        expect((await log.persist("frozen", "other", 0, [evt("meanwhile")])).seqNo).toBe(1);
      } finally {
        thaw();
      }
      expect((await written).seqNo).toBe(2);
      expect(await texts(log, "frozen", "f1")).toEqual(["warm-up", "after-the-freeze"]);
    } finally {
      await frozenLog.close();
      await longStore.close();
      await inner.end();
    }
  });
});
