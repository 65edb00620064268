import { PersistError, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { createPool } from "@eventsourced/evtlog-postgres/internal";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { within } from "../../../test/support/within.js";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "./pg-test-database.js";

// Closing while the server does not answer (a network partition: no reset, no answer). Without a bound,
// pg.Pool#end waits for a connection attempt until its 10 s connect timeout, and a batch statement in
// flight until TCP gives up, minutes later.

const evt = (text: string) => [{ bytes: new TextEncoder().encode(text) }];

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The messages of `err` and its causes. */
function causes(err: unknown): string {
  const out: string[] = [];
  for (let e = err; e instanceof Error; e = e.cause) out.push(e.message);
  return out.join(" <- ");
}

describe.concurrent("closing during a network partition", () => {
  const schema = uniqueSchemaName("close_outage");
  afterAll(async () => {
    await dropSchema(schema);
  });

  it("a pool the package created ends without waiting out a connection attempt", async () => {
    const proxy = await FaultProxy.inFrontOf(DATABASE_URL, 5432);
    proxy.swallow = "both";
    const pool = await createPool({
      connectionString: proxy.url,
      max: 2,
      ssl: undefined,
      applicationName: "close-outage",
      serverKeepalive: true,
      onIdleError: () => {},
    });
    try {
      const query = pool.query("SELECT 1").catch((err: unknown) => err);
      await until(() => proxy.accepted > 0, "the connection attempt");
      await pool.end();
      // Abandoned by end(), not timed out by pg (which takes 10 s).
      const err = (await query) as Error;
      expect(err.message).not.toMatch(/connection timeout/);
      expect(err.message).toMatch(/ended while connecting/);
    } finally {
      proxy.close();
    }
  }, 30_000);

  it("close() gives up after closeTimeoutMs: the batch in flight fails with an unknown outcome, the queued persist with a known one", async () => {
    const proxy = await FaultProxy.inFrontOf(DATABASE_URL, 5432);
    const log = await PostgresEvtLog.create({
      connectionString: proxy.url,
      schema,
      maxConnections: 4,
      closeTimeoutMs: 200,
      logger: silentLogger,
    });
    try {
      await log.persist("t", "a", 0, evt("a1"));
      proxy.swallow = "both";
      // In flight: its statement goes out and is never answered.
      const inFlight = log.persist("t", "a", 1, evt("a2")).catch((err: unknown) => err);
      // Queued behind it (one persist per entity in flight): never sent.
      const queued = log.persist("t", "a", 2, evt("a3")).catch((err: unknown) => err);
      await log.close();
      const [sent, notSent] = (await Promise.all([inFlight, queued])) as PersistError[];
      expect(sent).toBeInstanceOf(PersistError);
      expect(sent!.outcomeUnknown).toBe(true);
      expect(notSent).toBeInstanceOf(PersistError);
      expect(notSent!.outcomeUnknown).toBe(false);
      expect(notSent!.message).toMatch(/nothing was sent/);
    } finally {
      proxy.close();
    }
  }, 30_000);

  it("close() gives up after closeTimeoutMs on a persist waiting for a new connection: it fails, nothing was sent", async () => {
    const proxy = await FaultProxy.inFrontOf(DATABASE_URL, 5432);
    const log = await PostgresEvtLog.create({
      connectionString: proxy.url,
      schema,
      maxConnections: 4,
      closeTimeoutMs: 200,
      logger: silentLogger,
    });
    try {
      await log.persist("t", "b", 0, evt("b1"));
      // The connections drop; every new one is accepted and then never answered.
      proxy.swallow = "both";
      const before = proxy.accepted;
      proxy.cut();
      await until(() => log.stats.reconnects > 0, "the committer noticing its lost connection");
      const waiting = log.persist("t", "b", 1, evt("b2")).catch((err: unknown) => err);
      await until(() => proxy.accepted > before, "the committer's connection attempt");
      await log.close();
      const err = (await waiting) as PersistError;
      expect(err).toBeInstanceOf(PersistError);
      expect(err.outcomeUnknown).toBe(false);
      expect(err.message).toMatch(/no connection/);
      // Cut by close(), not timed out by pg (which takes 10 s).
      expect(causes(err)).not.toMatch(/connection timeout/);
      expect(causes(err)).toMatch(/the pool is closing/);
    } finally {
      proxy.close();
    }
  }, 30_000);

  /**
   * A log on a pool passed in (`max` connections, pg's default of no connect timeout) behind a proxy, two of
   * whose connections the caller holds, as its own use of the pool would.
   */
  async function logOnHeldPool(max: number) {
    const proxy = await FaultProxy.inFrontOf(DATABASE_URL, 5432);
    const pool = new pg.Pool({ connectionString: proxy.url, max });
    pool.on("error", () => {});
    const log = await PostgresEvtLog.create({
      pool,
      schema,
      maxConnections: max,
      queryTimeoutMs: 300,
      closeTimeoutMs: 200,
      logger: silentLogger,
    });
    const held = [await pool.connect(), await pool.connect()];
    /**
     * Starts a partition once `waiters` things of the log wait for a connection, and loses as many of the
     * caller's connections: the pool opens one for each waiter, behind the partition. Their startups are
     * swallowed, so they wait until the server gives up on them (authentication_timeout, a minute by
     * default), even after the partition heals.
     */
    async function loseInPartition(waiters: number): Promise<void> {
      await until(() => pool.waitingCount >= waiters, "the log waiting for connections");
      proxy.swallow = "both";
      const before = proxy.accepted;
      for (const client of held.splice(0, waiters)) client.release(new Error("lost"));
      await until(() => proxy.accepted >= before + waiters, "the pool's new connection attempts");
    }
    return { proxy, pool, log, held, loseInPartition };
  }

  it("close() gives up after closeTimeoutMs on a notification waiting for a connection of a pool passed in", async () => {
    // The committer opens the third connection.
    const { proxy, pool, log, loseInPartition } = await logOnHeldPool(3);
    try {
      // It commits; its notification and the check whether anyone listens wait for a connection each.
      await log.persist("t", "n", 0, evt("n1"));
      await loseInPartition(2);
      const started = Date.now();
      const closed = await within(log.close(), 10_000);
      console.log(
        `close() ${closed === "still waiting" ? "still waiting" : "returned"} after ${Date.now() - started} ms`,
      );
      expect(closed).not.toBe("still waiting");
    } finally {
      proxy.close();
      await pool.end();
    }
  }, 30_000);

  it("close() gives up after closeTimeoutMs on a persist waiting for a connection of a pool passed in: it fails, nothing was sent", async () => {
    const { proxy, pool, log, held, loseInPartition } = await logOnHeldPool(2);
    try {
      const waiting = log.persist("t", "w", 0, evt("w1")).catch((err: unknown) => err);
      await loseInPartition(1);
      const closed = await within(log.close(), 10_000);
      expect(closed).not.toBe("still waiting");
      const err = (await waiting) as PersistError;
      expect(err).toBeInstanceOf(PersistError);
      expect(err.outcomeUnknown).toBe(false);
      expect(err.message).toMatch(/nothing was sent/);
    } finally {
      proxy.close();
      for (const client of held) client.release();
      await pool.end();
    }
  }, 30_000);
});
