import { batchResultTypes, parseIntArray } from "@eventsourced/evtlog-postgres/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testPool } from "./pg-test-database.js";

const fallback = (text: string) => `fallback:${text}`;

describe("batch result parsing", () => {
  let pool: Awaited<ReturnType<typeof testPool>>;
  beforeAll(async () => {
    pool = await testPool(1);
  });
  afterAll(async () => {
    await pool?.end();
  });

  it("reads integer arrays as numbers and leaves anything else to the fallback", () => {
    expect(parseIntArray("{}", fallback)).toEqual([]);
    expect(parseIntArray("{0,1,-2,9007199254740991}", fallback)).toEqual([0, 1, -2, 9_007_199_254_740_991]);
    expect(parseIntArray("{1,NULL}", fallback)).toBe("fallback:{1,NULL}");
    expect(parseIntArray("{9007199254740993}", fallback)).toBe("fallback:{9007199254740993}");
  });

  it("parses int4[] and int8[] results as pg does (int8 as numbers) and every other column with pg's parsers", async () => {
    const client = await pool.connect();
    try {
      const types = batchResultTypes(client);
      expect(types).toBeDefined();
      const sql = `SELECT $1::int4[] AS won, $2::int8[] AS positions, '{}'::int8[] AS none,
        ARRAY[1, NULL]::int8[] AS with_null, ARRAY[9007199254740993]::int8[] AS huge, 7::int8 AS scalar,
        true AS flag, '{"a":1}'::jsonb AS doc`;
      const values = ["{3,1,2}", "{10,20}"];
      const ours = await client.query({ text: sql, values, types });
      const pgs = await client.query(sql, values);
      expect(ours.rows[0]).toEqual({
        ...pgs.rows[0],
        won: [3, 1, 2],
        positions: [10, 20],
      });
      expect(pgs.rows[0].positions).toEqual(["10", "20"]);
      expect(ours.rows[0].with_null).toEqual(["1", null]);
      expect(ours.rows[0].huge).toEqual(["9007199254740993"]);
    } finally {
      client.release();
    }
  });

  it("leaves a client that is not pg's alone", () => {
    expect(batchResultTypes({ query: () => Promise.resolve({ rows: [] }) })).toBeUndefined();
  });
});
