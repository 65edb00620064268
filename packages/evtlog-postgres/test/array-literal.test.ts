import { createRequire } from "node:module";
import { arrayLiteral } from "@eventsourced/evtlog-postgres/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testPool } from "./pg-test-database.js";

const require = createRequire(import.meta.url);
const { prepareValue } = require("pg/lib/utils") as { prepareValue: (value: unknown) => unknown };

const awkward = [
  "",
  "plain",
  'with "quotes"',
  "back\\slash",
  '\\"',
  "NULL",
  "null",
  "a,b",
  "{braces}",
  " spaced ",
  "tab\tnew\nline",
  "ünïcødé ✓ 😀",
  '{"json":"text","n":[1,2]}',
];
const cases: unknown[][] = [
  [],
  [0, 1, 2, 9_007_199_254_740_991, -3],
  awkward,
  ["application/json", null, undefined, "x"],
  [null],
];

describe("arrayLiteral", () => {
  let pool: Awaited<ReturnType<typeof testPool>>;
  beforeAll(async () => {
    pool = await testPool(1);
  });
  afterAll(async () => {
    await pool?.end();
  });

  it("writes exactly what pg writes for arrays of strings, numbers and nulls", () => {
    for (const values of cases) expect(arrayLiteral(values)).toBe(prepareValue(values));
  });

  it("leaves arrays with other elements to pg", () => {
    expect(arrayLiteral([1, true])).toBeUndefined();
    expect(arrayLiteral([Buffer.from("x")])).toBeUndefined();
    expect(arrayLiteral([[1]])).toBeUndefined();
  });

  it("round-trips through the server as text[] and int8[]", async () => {
    const texts = [...awkward, null];
    const res = await pool.query("SELECT $1::text[] AS texts, $2::int8[] AS numbers", [
      arrayLiteral(texts),
      arrayLiteral([1, 2, 9_007_199_254_740_991]),
    ]);
    expect(res.rows[0].texts).toEqual(texts);
    expect(res.rows[0].numbers).toEqual(["1", "2", "9007199254740991"]);
  });
});
