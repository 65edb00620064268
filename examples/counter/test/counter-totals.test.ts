import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../../packages/evtlog-postgres/test/pg-test-database.js";
import { startCounterTotals } from "../src/counter-totals.js";
import { runCounters } from "../src/run.js";
import { counterId } from "../src/workload.js";

describe("the counter_totals projection of the counter example", () => {
  const schema = uniqueSchemaName("totals");
  let pool: pg.Pool;
  let evtLog: PostgresEvtLog;

  beforeAll(async () => {
    pool = await testPool(6);
    evtLog = await PostgresEvtLog.create({ pool, schema, logger: silentLogger });
  });
  afterAll(async () => {
    await evtLog?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  it("keeps each counter's value, reports its lag and catch-up time, and sums to the counters' total", async () => {
    const run = async (entityCount = 4) => {
      const totals = await startCounterTotals({ evtLog, pool, schema, binarizer: "protobuf" });
      const summary = await runCounters({
        evtLog,
        entityCount,
        evtCount: 30,
        snapshotAfter: 0,
        binarizer: "protobuf",
        mailboxSize: 8,
        verify: true,
        onWritten: () => totals.markWritten(),
      });
      const ids = Array.from({ length: entityCount }, (_, i) => counterId(i));
      return { summary, ...(await totals.finish({ ids, total: summary.endTotal })) };
    };
    const first = await run();
    expect(first.lines[0]).toMatch(
      /^projection: counter_totals started 0 events behind the log and caught up in /,
    );
    expect(first.lines[1]).toMatch(
      /^projection lag: [\d,]+ events \(.+\) behind when the last command was acknowledged/,
    );
    expect(first.lines[2]).toBe(
      `projection verified: counter_totals sums to ${first.summary.endTotal} for the 4 counters of this run, their total`,
    );
    expect(first.verified).toBe(true);
    const second = await run();
    expect(second.lines.at(-1)).toMatch(/^projection verified/);
    // A run with fewer counters than an earlier one checks its own: the other rows are not its business.
    const third = await run(2);
    expect(third.lines.at(-1)).toMatch(/^projection verified: .* for the 2 counters of this run/);
    expect(third.verified).toBe(true);
    const rows = await pool.query(
      `SELECT id, value::text, last_seq_no FROM "${schema}".counter_totals ORDER BY id`,
    );
    expect(rows.rows.map((r: { last_seq_no: string }) => Number(r.last_seq_no))).toEqual([90, 90, 60, 60]);
  });
});
