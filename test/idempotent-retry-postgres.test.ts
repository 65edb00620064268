import {
  Entity,
  IDEMPOTENCY_KEY_HEADER,
  jsonFromBytes,
  PersistError,
  silentLogger,
} from "@eventsourced/core";
import { type PgClientLike, type PgPoolLike, PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counter, inc } from "../packages/core/test/fixtures.js";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../packages/evtlog-postgres/test/pg-test-database.js";

// A persist whose outcome the caller cannot know because the write COMMITTED and the connection then died
// (pg_terminate_backend) before the caller heard back. Retrying with the same idempotency key must not
// apply the command twice: the retry reports a duplicate, and the log holds the events exactly once.

/**
 * A pool whose next persist statement commits, after which its backend is terminated with
 * pg_terminate_backend while a statement is in flight; the persist then fails with the error that statement
 * really got.
 */
function poolThatDropsAfterCommit(pool: pg.Pool, admin: pg.Pool): { pool: PgPoolLike; arm(): void } {
  let armed = false;
  const wrap = (client: pg.PoolClient): PgClientLike =>
    new Proxy(client, {
      get(target, property, receiver) {
        if (property !== "query") return Reflect.get(target, property, receiver);
        return async (...args: unknown[]) => {
          const name = (args[0] as { name?: unknown } | null)?.name;
          const isPersist = typeof name === "string" && name.startsWith("eventsourced_persist");
          const result = await (target.query as (...a: unknown[]) => Promise<unknown>)(...args);
          if (!isPersist || !armed) return result;
          armed = false;
          const pid = ((await target.query("SELECT pg_backend_pid() AS pid")).rows[0] as { pid: number }).pid;
          // The error a statement in flight gets when its backend is terminated (57P01, FATAL), as if the
          // persist's own answer had been cut off: a statement that sleeps until it is terminated.
          const inFlight = target.query("SELECT pg_sleep(30)");
          inFlight.catch(() => {});
          for (let waited = 0; waited < 200; waited++) {
            const active = await admin.query(
              "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'",
              [pid],
            );
            if (active.rows.length > 0) break;
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
          await admin.query("SELECT pg_terminate_backend($1)", [pid]);
          await inFlight;
          throw new Error("the terminated statement completed");
        };
      },
    }) as unknown as PgClientLike;
  return {
    pool: {
      connect: async () => wrap(await pool.connect()),
      query: (text: string | pg.QueryArrayConfig, values?: unknown[]) => pool.query(text as string, values),
    } as PgPoolLike,
    arm: () => {
      armed = true;
    },
  };
}

describe("an idempotent command whose persist committed but whose connection was terminated", () => {
  const schema = uniqueSchemaName("idem_retry");
  let admin: pg.Pool;
  let pool: pg.Pool;
  let log: PostgresEvtLog;
  let dropper: ReturnType<typeof poolThatDropsAfterCommit>;

  beforeAll(async () => {
    admin = await testPool(2);
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    pool.on("error", () => {});
    dropper = poolThatDropsAfterCommit(pool, admin);
    log = await PostgresEvtLog.create({
      pool: dropper.pool,
      maxConnections: 4,
      schema,
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await log?.close();
    await pool?.end();
    await admin?.end();
    await dropSchema(schema);
  });

  it("fails with PersistError (outcome unknown); the retry with the same key reports a duplicate and the events exist once", async () => {
    const ref = await Entity.spawn("c", counter, {
      evtLog: log,
      logger: silentLogger,
      retryBackoff: { initialMs: 5 },
    });
    await ref.handleCmd(inc(1), { idempotencyKey: "first" });
    dropper.arm();
    const error = await ref.handleCmd(inc(7), { idempotencyKey: "order-7" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistError);
    expect((error as PersistError).outcomeUnknown).toBe(true);
    const retry = await ref.handleCmd(inc(7), { idempotencyKey: "order-7" });
    expect(retry).toMatchObject({ kind: "duplicate", seqNo: 2 });
    expect((retry as { position?: number }).position).toBeGreaterThan(0);
    const stored = [];
    for await (const r of log.evtsById("counter", "c", { from: 1 })) {
      stored.push([
        r.seqNo,
        jsonFromBytes<{ by: number }>(r.bytes).by,
        r.metadata?.headers?.[IDEMPOTENCY_KEY_HEADER],
      ]);
    }
    expect(stored).toEqual([
      [1, 1, "first"],
      [2, 7, "order-7"],
    ]);
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: 8, seqNo: 2 });
    expect(log.stats.reconnects).toBeGreaterThan(0);
    await ref.stop();
  });
});
