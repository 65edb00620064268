import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../../packages/evtlog-postgres/test/pg-test-database.js";
import { assertBuilt, lineStartingWith, runExample } from "./example-process.js";

// The counter_totals projection as the built example reports it, run twice on one PostgreSQL schema: the
// second run's projection starts where the first left it (0 events behind) and sums to both runs' total.
const schema = uniqueSchemaName("counter_proj");
const env = {
  APP__EVT_LOG__KIND: "postgres",
  APP__EVT_LOG__POSTGRES__URL: DATABASE_URL,
  APP__EVT_LOG__POSTGRES__SCHEMA: schema,
  APP__COUNTER__ENTITY_COUNT: "3",
  APP__COUNTER__EVT_COUNT: "20",
};

beforeAll(async () => {
  assertBuilt();
  await (await testPool(1)).end(); // fails with how to start PostgreSQL when it is down
});

afterAll(async () => {
  await dropSchema(schema);
});

describe("the counter example's counter_totals projection on PostgreSQL", () => {
  it("prints its lag and catch-up time in the summary and sums to the counters' total, run after run", async () => {
    for (let run = 0; run < 2; run++) {
      const result = await runExample({ env });
      expect(result.code, result.stderr).toBe(0);
      expect(lineStartingWith(result.stdout, "projection:")).toMatch(
        /^projection: counter_totals started 0 events behind the log and caught up in \d+\.\d\d s$/,
      );
      expect(lineStartingWith(result.stdout, "projection lag:")).toMatch(
        /^projection lag: [\d,]+ events \((\d+ ms|n\/a) of log time\) behind when the last command was acknowledged; caught up \d+\.\d\d s later$/,
      );
      expect(lineStartingWith(result.stdout, "projection verified:")).toMatch(
        /^projection verified: counter_totals sums to -?\d+ for the 3 counters of this run, their total$/,
      );
    }
    // A run with fewer counters than the table holds checks its own (it used to report a mismatch and exit 0).
    const fewer = await runExample({ env: { ...env, APP__COUNTER__ENTITY_COUNT: "2" } });
    expect(fewer.code, fewer.stderr).toBe(0);
    expect(lineStartingWith(fewer.stdout, "projection verified:")).toMatch(/for the 2 counters of this run/);
    const pool = await testPool(1);
    try {
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n, sum(last_seq_no)::int AS seq FROM "${schema}".counter_totals`,
      );
      expect(rows[0]).toEqual({ n: 3, seq: 3 * 40 + 2 * 20 });
    } finally {
      await pool.end();
    }
  }, 120_000);
});
