import { evtsByTypeStatement, logTables } from "@eventsourced/evtlog-postgres/internal";
import { describe, expect, it } from "vitest";
import { logPerSuite, testPool } from "./pg-test-database.js";

const evt = (text: string) => ({ bytes: new TextEncoder().encode(text) });

/** `unsettled` is the by-type statement's last column (see `evtsByTypeStatement`). */
const unsettledOf = (row: readonly unknown[]) => row[row.length - 1] === true;

/**
 * A by-type page returns the settled prefix of its window and at most one unsettled row, the first, which
 * tells the reader it was held back (ADR 0139). Before, it returned every row of the window and the reader
 * threw away those from the first unsettled one on, to read them again with the next query: with a live
 * reader beside 100 writers, 0-106 % more rows than it delivered.
 */
describe("by-type pages stop at the first unsettled row on the server", () => {
  const suite = logPerSuite("settled_prefix");

  it("return nothing behind an unsettled row, and every row once they are settled", async () => {
    const log = suite.log();
    const statement = evtsByTypeStatement(logTables(suite.schema, "events"));
    const pool = await testPool(2);
    const other = await pool.connect();
    try {
      const before = await log.persist("prefix", "a", 0, [evt("a0"), evt("a1")]);
      // An unrelated write transaction: it has an id and stays open, so every event persisted after it
      // began is unsettled until it ends.
      await other.query("BEGIN");
      await other.query("SELECT pg_current_xact_id()");
      for (let seqNo = 2; seqNo < 12; seqNo++) await log.persist("prefix", "a", seqNo, [evt(`a${seqNo}`)]);

      const page = async () =>
        (await pool.query({ text: statement, values: ["prefix", 0, 100], rowMode: "array" }))
          .rows as unknown[][];
      const held = await page();
      // The first two may be unsettled too (another test file's transaction, older than ours, may be open),
      // the ten after them are: the page ends at the first unsettled row.
      const firstUnsettled = held.findIndex(unsettledOf);
      expect(firstUnsettled).toBeGreaterThanOrEqual(0);
      expect(firstUnsettled).toBeLessThanOrEqual(2);
      expect(held).toHaveLength(firstUnsettled + 1);
      expect(held.slice(0, firstUnsettled).map((row) => Number(row[0]))).toEqual(
        [before.position - 1, before.position].slice(0, firstUnsettled),
      );

      await other.query("COMMIT");
      // Settled once every older write transaction on the server has ended (ours has; others end soon).
      let rows = await page();
      for (let tries = 0; rows.some(unsettledOf) && tries < 1_000; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        rows = await page();
      }
      expect(rows).toHaveLength(12);
      expect(rows.some(unsettledOf)).toBe(false);
    } finally {
      await other.query("ROLLBACK").catch(() => {});
      other.release();
      await pool.end();
    }
  });
});
