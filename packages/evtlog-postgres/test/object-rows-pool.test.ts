import { silentLogger } from "@eventsourced/core";
import { type PgPoolLike, PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logPerSuite, testPool } from "./pg-test-database.js";

const encode = (text: string) => new TextEncoder().encode(text);

/**
 * The log's reads ask for array rows (`rowMode: "array"`). A pg-compatible pool may ignore that and return
 * objects keyed by column; every read must give the same records either way, optional fields included.
 */
function objectRowsPool(pool: pg.Pool, asked: string[]): PgPoolLike {
  return {
    connect: () => pool.connect(),
    query: (text: string | { text: string; values: unknown[]; rowMode?: string }, values?: unknown[]) => {
      if (typeof text === "string") return pool.query(text, values);
      asked.push(text.rowMode ?? "objects");
      return pool.query(text.text, text.values);
    },
  } as unknown as PgPoolLike;
}

describe("PostgresEvtLog reads through a pool that returns object rows", () => {
  const { schema, log } = logPerSuite("object_rows");
  let pool: pg.Pool;
  let viaObjects: PostgresEvtLog;
  const asked: string[] = [];

  beforeAll(async () => {
    pool = await testPool(3);
    viaObjects = await PostgresEvtLog.create({
      pool: objectRowsPool(pool, asked),
      maxConnections: 3,
      schema,
      logger: silentLogger,
    });
  });

  afterAll(async () => {
    await viaObjects?.close();
    await pool?.end();
  });

  it("gives the records the array rows give", async () => {
    await log().persist("acct", "a", 0, [
      {
        bytes: encode('{"n":1}'),
        contentType: "application/json",
        metadata: { correlationId: "c-1", headers: { traceparent: "t-1" } },
      },
      { bytes: encode("plain") },
    ]);
    await log().persist("acct", "b", 0, [{ bytes: new Uint8Array([0, 255, 92, 120]), contentType: "v2" }]);
    await log().persist("acct", "a", 2, [
      { bytes: encode("third"), metadata: { causationId: "x", headers: { k: "1" } } },
    ]);

    const read = async (from: PostgresEvtLog) => {
      const byType = [];
      for await (const r of from.evtsByType("acct")) byType.push(r);
      const byId = [];
      for await (const r of from.evtsById("acct", "a", { from: 1 })) byId.push(r);
      const byIds = [];
      for await (const r of from.evtsByIds("acct", [
        { id: "b", from: 1, to: 1 },
        { id: "a", from: 2, to: 3 },
      ])) {
        byIds.push(r);
      }
      return { byType, byId, byIds };
    };
    const arrays = await read(log());
    const objects = await read(viaObjects);

    expect(asked.length).toBeGreaterThanOrEqual(3);
    expect(asked.every((mode) => mode === "array")).toBe(true);
    expect(objects).toEqual(arrays);
    expect(arrays.byType.map((r) => [r.id, r.seqNo, r.position > 0])).toEqual([
      ["a", 1, true],
      ["a", 2, true],
      ["b", 1, true],
      ["a", 3, true],
    ]);
    const [first, second] = arrays.byId;
    expect(first).toMatchObject({
      seqNo: 1,
      contentType: "application/json",
      metadata: { correlationId: "c-1", headers: { traceparent: "t-1" } },
    });
    expect(Buffer.from(first!.bytes).toString()).toBe('{"n":1}');
    expect(second).not.toHaveProperty("contentType");
    expect(second).not.toHaveProperty("metadata");
    expect(arrays.byIds.map((r) => [r.id, r.seqNo])).toEqual([
      ["b", 1],
      ["a", 2],
      ["a", 3],
    ]);
    expect([...arrays.byIds[0]!.bytes]).toEqual([0, 255, 92, 120]);
    expect(arrays.byIds[2]!.metadata).toEqual({ causationId: "x", headers: { k: "1" } });
  });
});
