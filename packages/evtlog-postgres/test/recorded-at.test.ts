import { describe, expect, it } from "vitest";
import { logPerSuite, testPool } from "./pg-test-database.js";

const bytes = new TextEncoder().encode("{}");

/**
 * Reads select `recorded_at` as milliseconds since the epoch instead of parsing the timestamp's text: every
 * read must still return the `Date` that `pg`'s own timestamp parser makes of the stored value, whatever
 * the session's time zone and however the microseconds fall.
 */
describe("PostgresEvtLog recordedAt", () => {
  const { schema, log } = logPerSuite("recorded_at");

  it("is the stored timestamp, cut to the millisecond as pg parses it, in every read", async () => {
    const stored = [
      "2026-12-01 00:25:00.124+00", // a whole millisecond, inexact as a double number of seconds
      "2026-12-01 00:25:00.123456+00",
      "2026-12-01 00:25:00.999999+00",
      "2026-12-01 00:25:00+00",
      "2000-02-29 23:59:59.0005+05:30",
      "1969-12-31 23:59:59.9995+00", // before the epoch: the millisecond below, as pg's parser gives
      "1900-01-01 00:00:00.001-03",
      "2262-04-11 23:47:16.854775+00",
    ];
    for (let i = 0; i < stored.length; i++) await log().persist("clock", "a", i, [{ bytes }]);
    await log().persist("clock", "b", 0, [{ bytes }]);
    const pool = await testPool(1);
    try {
      const client = await pool.connect();
      try {
        // A session in another time zone writes, so nothing depends on the server's default.
        await client.query("SET TIME ZONE 'America/Sao_Paulo'");
        for (let i = 0; i < stored.length; i++) {
          await client.query(
            `UPDATE "${schema}".events SET recorded_at = $1::timestamptz WHERE type = 'clock' AND id = 'a' AND seq_no = $2`,
            [stored[i], i + 1],
          );
        }
        const { rows } = await client.query<{ recorded_at: Date }>(
          `SELECT recorded_at FROM "${schema}".events WHERE type = 'clock' AND id = 'a' ORDER BY seq_no`,
        );
        const expected = rows.map((row) => row.recorded_at.getTime());
        expect(expected[0]).toBe(Date.UTC(2026, 11, 1, 0, 25, 0, 124));
        expect(expected[5]).toBe(-1);

        const byId: number[] = [];
        for await (const r of log().evtsById("clock", "a", { from: 1 })) byId.push(r.recordedAt.getTime());
        const byIds: number[] = [];
        for await (const r of log().evtsByIds("clock", [{ id: "a", from: 1, to: stored.length }])) {
          byIds.push(r.recordedAt.getTime());
        }
        const byType: number[] = [];
        for await (const r of log().evtsByType("clock")) {
          if (r.id === "a") byType.push(r.recordedAt.getTime());
          else expect(Math.abs(r.recordedAt.getTime() - Date.now())).toBeLessThan(60_000);
        }
        expect(byId).toEqual(expected);
        expect(byIds).toEqual(expected);
        expect(byType).toEqual(expected);
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });
});
