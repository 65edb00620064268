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
  // The shapes written with one join: nothing to escape and no null, or nothing but nulls.
  ["counter", "c-0", "c-1", "", " spaced ", "a,b", "{braces}", "NULL", "ünïcødé ✓ 😀"],
  ["application/json", 27, 0.5, -1, "x"],
  [null, undefined, null],
  // Nearly so: one element to escape or one null among them, and a null first among values.
  ["counter", 'c-"1"'],
  ["counter", "backslash"],
  ["counter", null, "c-1"],
  [null, "c-0"],
  [undefined, 1],
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
    const plain = ["counter", "c-0", "", "a,b", "{braces}", "NULL", "ünïcødé ✓ 😀"];
    const res = await pool.query(
      "SELECT $1::text[] AS texts, $2::int8[] AS numbers, $3::text[] AS plain, $4::jsonb[] AS absent",
      [
        arrayLiteral(texts),
        arrayLiteral([1, 2, 9_007_199_254_740_991]),
        arrayLiteral(plain),
        arrayLiteral([null, undefined, null]),
      ],
    );
    expect(res.rows[0].texts).toEqual(texts);
    expect(res.rows[0].numbers).toEqual(["1", "2", "9007199254740991"]);
    expect(res.rows[0].plain).toEqual(plain);
    expect(res.rows[0].absent).toEqual([null, null, null]);
  });
});
