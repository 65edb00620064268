import { isEventSourcedError } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { describe, expect, it } from "vitest";
import { DATABASE_URL, logLockHolders, logPerSuite, testPool } from "./pg-test-database.js";

const encoder = new TextEncoder();
const evt = (text: string) => ({ bytes: encoder.encode(text) });

/**
 * The log's advisory lock is session-level and held only for one batch statement (ADR 0108): a statement
 * that fails after taking it must not leave it held, or every other writer of the log would wait forever.
 */
describe("PostgresEvtLog releases its log lock", () => {
  const suite = logPerSuite("log_lock");

  it("after batches that commit and after statements that fail once they hold it", async () => {
    const log = suite.log();
    const admin = await testPool(1);
    try {
      // Fails the statement after it took the lock and before it released it: a BEFORE trigger raising for the
      // events of entities "boom-*" (an AFTER trigger would fire only once the statement is done, lock released).
      await admin.query(`CREATE FUNCTION "${suite.schema}".boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.id LIKE 'boom%' THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$`);
      await admin.query(`CREATE TRIGGER boom BEFORE INSERT ON "${suite.schema}".events
        FOR EACH ROW EXECUTE FUNCTION "${suite.schema}".boom()`);

      await log.persist("lock", "ok-0", 0, [evt("a")]);
      expect(await logLockHolders(admin, suite.schema)).toBe(0);

      // One event alone (the one-event statement), then a batch with one bad persist (batch statement, then
      // persist by persist): only the bad persists fail.
      const alone = await log.persist("lock", "boom-0", 0, [evt("x")]).catch((e: unknown) => e);
      expect(isEventSourcedError(alone, "PERSIST_FAILED")).toBe(true);
      expect(await logLockHolders(admin, suite.schema)).toBe(0);
      const results = await Promise.allSettled([
        log.persist("lock", "ok-1", 0, [evt("b")]),
        log.persist("lock", "boom-1", 0, [evt("y"), evt("z")]),
        log.persist("lock", "ok-2", 0, [evt("c")]),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(await logLockHolders(admin, suite.schema)).toBe(0);

      // Another writer of the same log (its own connection, as another process would be) is not blocked.
      const other = await PostgresEvtLog.create({
        connectionString: DATABASE_URL,
        schema: suite.schema,
        maxConnections: 2,
      });
      try {
        expect((await other.persist("lock", "ok-3", 0, [evt("d")])).seqNo).toBe(1);
      } finally {
        await other.close();
      }
      const ids: string[] = [];
      for await (const r of log.evtsByType("lock")) ids.push(r.id);
      expect(ids).toEqual(["ok-0", "ok-1", "ok-2", "ok-3"]);
    } finally {
      await admin.end();
    }
  });

  it("bounds how long a batch's explicit transaction may sit idle (a stopped process)", async () => {
    const seen: string[] = [];
    const log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema: suite.schema,
      maxConnections: 2,
      inTransaction: async (client) => {
        const res = await client.query("SHOW idle_in_transaction_session_timeout");
        seen.push(
          (res.rows[0] as { idle_in_transaction_session_timeout: string })
            .idle_in_transaction_session_timeout,
        );
      },
    });
    try {
      await log.persist("idle", "a", 0, [evt("a")]);
      expect(seen).toEqual(["10s"]);
    } finally {
      await log.close();
    }
  });
});
