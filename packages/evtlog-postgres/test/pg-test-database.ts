import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { advisoryLockKey } from "@eventsourced/evtlog-postgres/internal";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

/** The server the tests use: `DATABASE_URL`, by default the local PostgreSQL. */
export const DATABASE_URL: string = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const HOW_TO_START =
  "Start PostgreSQL with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` " +
  "or point DATABASE_URL at a reachable server.";

/** A schema name no other test run uses. */
export function uniqueSchemaName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A small pool on the test server; fails with instructions when the server is not reachable. */
export async function testPool(max = 4): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max });
  pool.on("error", () => {});
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL}: ${(err as Error).message}. ${HOW_TO_START}`,
    );
  }
  return pool;
}

/** Drops `schema` and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const pool = await testPool(1);
  try {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await pool.end();
  }
}

/**
 * A log on a schema of its own for the calling `describe` block (3 connections): created before its tests,
 * closed and dropped after them. Returns the schema's name and the getter its tests use.
 */
export function logPerSuite(prefix: string): { readonly schema: string; readonly log: () => PostgresEvtLog } {
  const schema = uniqueSchemaName(prefix);
  let log: PostgresEvtLog | undefined;
  beforeAll(async () => {
    await (await testPool(1)).end();
    log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 3,
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await log?.close();
    await dropSchema(schema);
  });
  return {
    schema,
    log: () => {
      if (log === undefined) throw new Error("the suite's log is created in beforeAll");
      return log;
    },
  };
}

/**
 * How many sessions hold the advisory lock of the log on `schema`.`table` (its writers take it for the
 * duration of a batch statement, so between batches none should). `advisoryLockKey` is a signed 64-bit key;
 * `pg_locks` shows it as its high and low 32 bits.
 */
export async function logLockHolders(pool: pg.Pool, schema: string, table = "events"): Promise<number> {
  const key = BigInt.asUintN(64, BigInt(advisoryLockKey(`eventsourced:log:${schema}.${table}`)));
  const res = await pool.query(
    `SELECT count(*)::int AS n FROM pg_locks
     WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2 AND objsubid = 1`,
    [Number(key >> 32n), Number(key & 0xffffffffn)],
  );
  return (res.rows[0] as { n: number }).n;
}
