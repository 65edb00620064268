import type { Logger, TypedEvtRecord } from "@eventsourced/core";
import {
  AppendSignal,
  evtsByTypeStatement,
  logTables,
  oldestTransaction,
  readEvtsByType,
} from "@eventsourced/evtlog-postgres/internal";
import { describe, expect, it } from "vitest";
import { logPerSuite, testPool } from "./pg-test-database.js";

const evt = (text: string) => ({ bytes: new TextEncoder().encode(text) });

/** A logger that keeps its warnings. */
function recordingLogger(): Logger & { warnings: { message: string; fields: unknown }[] } {
  const warnings: { message: string; fields: unknown }[] = [];
  const ignore = () => {};
  return {
    warnings,
    debug: ignore,
    error: ignore,
    warn: (message, fields) => warnings.push({ message, fields }),
  };
}

describe("by-type reads held back by an older transaction (ADR 0108)", () => {
  const suite = logPerSuite("held_back");

  it("wait for a write transaction that began before the event's, warn naming it, and deliver once it ends", async () => {
    const log = suite.log();
    const pool = await testPool(2);
    const other = await pool.connect();
    try {
      // An unrelated write transaction, older than the persist below: it has an id and stays open.
      await other.query("BEGIN");
      const held = (await other.query("SELECT pg_current_xact_id()::text AS xid, pg_backend_pid() AS pid"))
        .rows[0] as { xid: string; pid: number };
      const persisted = await log.persist("held", "a", 0, [evt("a")]);

      // The oldest transaction with an id is ours, or one older still (other test files run beside this one).
      const olderOrSame = (t: { xid: string } | undefined) =>
        t !== undefined && BigInt(t.xid) <= BigInt(held.xid);
      expect(olderOrSame(await oldestTransaction(pool))).toBe(true);

      const logger = recordingLogger();
      const read: TypedEvtRecord[] = [];
      let done = false;
      const reading = (async () => {
        const context = {
          pool,
          statement: evtsByTypeStatement(logTables(suite.schema, "events")),
          pageSize: 100,
          appendSignal: new AppendSignal(),
          listener: undefined,
          pollIntervalMs: 50,
          closed: new AbortController().signal,
          logger,
          heldBackWarnMs: 50,
        };
        for await (const r of readEvtsByType(context, "held", {})) read.push(r);
        done = true;
      })();
      const deadline = Date.now() + 10_000;
      while (logger.warnings.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      // Not live, yet still waiting: the event committed, but an older transaction has not ended.
      expect(done).toBe(false);
      expect(read).toEqual([]);
      expect(logger.warnings[0]!.message).toContain("held back");
      // It names the oldest transaction: ours, unless a test file beside this one has an older one open.
      const named = (logger.warnings[0]!.fields as { oldestTransaction?: { pid?: unknown } })
        .oldestTransaction;
      expect(logger.warnings[0]!.fields).toMatchObject({ type: "held" });
      expect(named?.pid).toEqual(expect.any(Number));
      if (named?.pid !== held.pid) expect(olderOrSame(await oldestTransaction(pool))).toBe(true);

      await other.query("COMMIT");
      await reading;
      expect(read.map((r) => r.position)).toEqual([persisted.position]);
      expect(logger.warnings).toHaveLength(1);
    } finally {
      await other.query("ROLLBACK").catch(() => {});
      other.release();
      await pool.end();
    }
  });
});
