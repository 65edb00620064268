import { PersistError, silentLogger } from "@eventsourced/core";
import { type PgClientLike, PostgresEvtLog, type PostgresEvtLogOptions } from "@eventsourced/evtlog-postgres";
import { advisoryLockKey } from "@eventsourced/evtlog-postgres/internal";
import { afterAll, describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

// ADR 0145: a pool the log creates sets the server's side of each new connection (TCP keepalive,
// tcp_user_timeout, client_connection_check_interval), so that the server ends the session of a client that
// is gone, and with it a log lock the session may hold. A partition cannot be made on loopback without
// netfilter: these tests check the settings on the log's own connections and the one effect loopback shows,
// a statement whose client gave up being cancelled by the server.

const SETTINGS = [
  "tcp_keepalives_idle",
  "tcp_keepalives_interval",
  "tcp_keepalives_count",
  "tcp_user_timeout",
  "client_connection_check_interval",
] as const;
const evt = (text: string) => [{ bytes: new TextEncoder().encode(text) }];

/** A log on `schema` whose in-transaction hook reads the settings on the committer's own connection. */
async function logShowingSettings(schema: string, options: Partial<PostgresEvtLogOptions>) {
  const seen: Record<string, string>[] = [];
  const log = await PostgresEvtLog.create({
    schema,
    maxConnections: 3,
    logger: silentLogger,
    ...options,
    inTransaction: async (client: PgClientLike) => {
      const shown: Record<string, string> = {};
      for (const name of SETTINGS) {
        const res = await client.query(`SHOW ${name}`);
        shown[name] = String(Object.values(res.rows[0] as Record<string, unknown>)[0]);
      }
      seen.push(shown);
    },
  });
  return { log, seen };
}

describe("server-side keepalive on the log's connections", () => {
  const schema = uniqueSchemaName("server_keepalive");
  afterAll(async () => {
    await dropSchema(schema);
  });

  it("is set on the connections of the pool the log creates", async () => {
    const { log, seen } = await logShowingSettings(schema, { connectionString: DATABASE_URL });
    try {
      await log.persist("k", "own", 0, evt("a"));
    } finally {
      await log.close();
    }
    expect(seen).toEqual([
      {
        // The server shows the values its socket has (seconds; milliseconds for tcp_user_timeout).
        tcp_keepalives_idle: "10",
        tcp_keepalives_interval: "5",
        tcp_keepalives_count: "4",
        tcp_user_timeout: "30000",
        client_connection_check_interval: "2s",
      },
    ]);
  });

  it("is not set with serverKeepalive: false, nor on a pool passed in", async () => {
    const off = await logShowingSettings(schema, { connectionString: DATABASE_URL, serverKeepalive: false });
    const passed = await testPool(3);
    const given = await logShowingSettings(schema, { pool: passed });
    try {
      await off.log.persist("k", "off", 0, evt("a"));
      await given.log.persist("k", "given", 0, evt("a"));
    } finally {
      await off.log.close();
      await given.log.close();
      await passed.end();
    }
    // What a plain connection of the server gets (here: the kernel's keepalive, no user timeout, no check).
    const plain = await testPool(1);
    const own: Record<string, string> = {};
    try {
      for (const name of SETTINGS) {
        own[name] = String(Object.values((await plain.query(`SHOW ${name}`)).rows[0] as object)[0]);
      }
    } finally {
      await plain.end();
    }
    expect(own.client_connection_check_interval).not.toBe("2s");
    expect(off.seen).toEqual([own]);
    expect(given.seen).toEqual([own]);
  });

  it("lets the server cancel a persist whose client gave up while it waited for the log lock", async () => {
    const admin = await testPool(2);
    const holder = await admin.connect();
    const log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 3,
      queryTimeoutMs: 300,
      logger: silentLogger,
    });
    let holding = true;
    try {
      // Another session holds the log lock (as a dead session holding it would): the persist waits for it.
      const key = advisoryLockKey(`eventsourced:log:${schema}.events`);
      await holder.query("SELECT pg_advisory_lock($1::bigint)", [key]);
      const failed = await log.persist("k", "late", 0, evt("late")).catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(PersistError);
      expect((failed as PersistError).outcomeUnknown).toBe(true);

      // The log destroyed its connection; the server cancels the statement still waiting for the lock
      // (liveness bound only). Before, it waited on, and committed once the lock was free.
      const waiting = async () =>
        (
          await admin.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE $1`,
            [`%${schema}%`],
          )
        ).rows[0].n as number;
      const deadline = Date.now() + 15_000;
      while ((await waiting()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await waiting()).toBe(0);

      await holder.query("SELECT pg_advisory_unlock($1::bigint)", [key]);
      holding = false;
      // Nothing was written: the statement ended without the lock.
      expect(await log.lastSeqNo("k", "late")).toBe(0);
    } finally {
      if (holding) await holder.query("SELECT pg_advisory_unlock_all()").catch(() => {});
      holder.release();
      await log.close();
      await admin.end();
    }
  });
});
