import { PersistError, SeqNoConflictError } from "@eventsourced/core";
import type { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { describe, expect, it } from "vitest";
import { logPerSuite, testPool } from "./pg-test-database.js";

const encoder = new TextEncoder();
const evt = (text: string) => ({ bytes: encoder.encode(text) });

async function texts(log: PostgresEvtLog, type: string, id: string): Promise<string[]> {
  const out: string[] = [];
  for await (const record of log.evtsById(type, id, { from: 1 }))
    out.push(new TextDecoder().decode(record.bytes));
  return out;
}

describe("PostgresEvtLog group commit", () => {
  const { log, schema } = logPerSuite("group_commit");

  it("writes persists issued together in one batch, failing only the conflicting one, which writes nothing", async () => {
    await log().persist("gc", "A", 0, [evt("a1"), evt("a2")]);
    const before = log().stats;
    const a = log().persist("gc", "A", 0, [evt("x1"), evt("x2"), evt("x3")]);
    const b = log().persist("gc", "B", 0, [evt("b1"), evt("b2")]);
    const c = log().persist("gc", "C", 0, [evt("c1")]);
    const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
    expect(log().stats.batches - before.batches).toBe(1);
    expect(log().stats.maxBatch).toBeGreaterThanOrEqual(3);
    expect(ra.status).toBe("rejected");
    expect((ra as PromiseRejectedResult).reason).toBeInstanceOf(SeqNoConflictError);
    expect(rb).toEqual({ status: "fulfilled", value: { seqNo: 2, position: expect.any(Number) } });
    expect(rc).toEqual({ status: "fulfilled", value: { seqNo: 1, position: expect.any(Number) } });
    expect(await texts(log(), "gc", "A")).toEqual(["a1", "a2"]);
    expect(await texts(log(), "gc", "B")).toEqual(["b1", "b2"]);
    expect(await texts(log(), "gc", "C")).toEqual(["c1"]);
    expect(await log().lastSeqNo("gc", "A")).toBe(2);
  });

  it("refuses a stale expected seqNo inside a batch without touching the other entities' writes", async () => {
    const before = log().stats;
    const stale = log().persist("gc", "B", 1, [evt("late")]);
    const fresh = log().persist("gc", "C", 1, [evt("c2"), evt("c3")]);
    const created = log().persist("gc", "D", 0, [evt("d1")]);
    const results = await Promise.allSettled([stale, fresh, created]);
    expect(log().stats.batches - before.batches).toBe(1);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(SeqNoConflictError);
    expect(results.slice(1)).toEqual([
      { status: "fulfilled", value: { seqNo: 3, position: expect.any(Number) } },
      { status: "fulfilled", value: { seqNo: 1, position: expect.any(Number) } },
    ]);
    expect(await texts(log(), "gc", "B")).toEqual(["b1", "b2"]);
  });

  it("retries a failed batch persist by persist, so one poisoned persist fails alone", async () => {
    const pool = await testPool(1);
    try {
      // A trigger that rejects one entity's events stands in for any unexpected statement error.
      await pool.query(`CREATE FUNCTION "${schema}".poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.id = 'poison' THEN RAISE EXCEPTION 'poisoned event'; END IF; RETURN NEW; END $$`);
      await pool.query(`CREATE TRIGGER poison BEFORE INSERT ON "${schema}".events
        FOR EACH ROW EXECUTE FUNCTION "${schema}".poison()`);
      const before = log().stats;
      const results = await Promise.allSettled([
        log().persist("gc", "ok-1", 0, [evt("1")]),
        log().persist("gc", "poison", 0, [evt("p")]),
        log().persist("gc", "ok-2", 0, [evt("2")]),
      ]);
      expect(log().stats.fallbacks - before.fallbacks).toBe(1);
      expect(results[0]).toEqual({ status: "fulfilled", value: { seqNo: 1, position: expect.any(Number) } });
      expect(results[2]).toEqual({ status: "fulfilled", value: { seqNo: 1, position: expect.any(Number) } });
      const failure = (results[1] as PromiseRejectedResult).reason as PersistError;
      expect(failure).toBeInstanceOf(PersistError);
      expect(failure.outcomeUnknown).toBe(false);
      expect(await log().lastSeqNo("gc", "poison")).toBe(0);
    } finally {
      await pool.query(`DROP TRIGGER IF EXISTS poison ON "${schema}".events`);
      await pool.end();
    }
  });

  it("defers a second persist for the same entity to the next batch, where it conflicts", async () => {
    const results = await Promise.allSettled([
      log().persist("gc", "same", 0, [evt("first")]),
      log().persist("gc", "same", 0, [evt("second")]),
      log().persist("gc", "same", 1, [evt("third")]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await texts(log(), "gc", "same")).toEqual(["first", "third"]);
  });

  it("writes awkward ids, content types and metadata unchanged, in single-event batches and mixed ones", async () => {
    const awkward = [
      'with "quotes"',
      "back\\slash",
      '\\"',
      "NULL",
      "a,b",
      "{braces}",
      " spaced ",
      "tab\tnl\n",
      "ünï ✓ 😀",
    ];
    const record = (text: string) => ({
      bytes: encoder.encode(text),
      contentType: `text/${text}`,
      metadata: { correlationId: text, headers: { note: text, [text]: "key" } },
    });
    for (const [round, extra] of [
      ["singles", 1],
      ["mixed", 2],
    ] as const) {
      const before = log().stats;
      // Every persist has one event except, in the mixed round, the first (two): the other statement.
      const results = await Promise.all(
        awkward.map((id, i) =>
          log().persist(
            round,
            id,
            0,
            i === 0 ? Array.from({ length: extra }, () => record(id)) : [record(id)],
          ),
        ),
      );
      expect(log().stats.batches - before.batches).toBe(1);
      expect(results.map((r) => r.seqNo)).toEqual(awkward.map((_, i) => (i === 0 ? extra : 1)));
      for (const id of awkward) {
        const read = [];
        for await (const r of log().evtsById(round, id, { from: 1 })) read.push(r);
        const last = read.at(-1)!;
        expect(new TextDecoder().decode(last.bytes)).toBe(id);
        expect({ contentType: last.contentType, metadata: last.metadata }).toEqual({
          contentType: `text/${id}`,
          metadata: { correlationId: id, headers: { note: id, [id]: "key" } },
        });
      }
    }
  });

  it("batches many concurrent entities into few round trips", async () => {
    const before = log().stats;
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => log().persist("gc-many", `e${i}`, 0, [evt(`${i}`)])),
    );
    expect(log().stats.persists - before.persists).toBe(300);
    expect(log().stats.batches - before.batches).toBeLessThan(10);
  });
});
