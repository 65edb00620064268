import {
  defineEntity,
  Entity,
  emitAndReply,
  InvalidArgumentError,
  jsonToBytes,
  reply,
  silentLogger,
} from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "./pg-test-database.js";

type Evt = { readonly type: "increased"; readonly by: number };
const increased = (by: number) => ({ bytes: jsonToBytes({ type: "increased", by }) });
type Cmd = { readonly type: "get" } | { readonly type: "inc" };
const counter = defineEntity<number, Cmd, Evt, number>({
  typeName: "counter",
  initialState: () => 0,
  handleCmd: (state, cmd) =>
    cmd.type === "get"
      ? reply(state)
      : emitAndReply<number, Evt, number>([{ type: "increased", by: 1 }], (after) => after),
  handleEvt: (state, evt) => state + evt.by,
});

describe("PostgresEvtLog.evtsByIds", () => {
  const schema = uniqueSchemaName("bulk_reads");
  let log: PostgresEvtLog;

  beforeAll(async () => {
    // Read pages of 3 events: bulk pages of 30, so that the ranges below span and share pages.
    log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 2,
      readPageSize: 3,
      logger: silentLogger,
    });
    const sizes: Record<string, number> = { a: 45, b: 2, c: 0, d: 31 };
    for (const [id, n] of Object.entries(sizes)) {
      for (let i = 0; i < n; i++) await log.persist("counter", id, i, [increased(i + 1)]);
    }
  });
  afterAll(async () => {
    await log?.close();
    await dropSchema(schema);
  });

  it("yields range after range in the order given, each in seqNo order, across pages", async () => {
    const seen: string[] = [];
    for await (const record of log.evtsByIds("counter", [
      { id: "d", from: 1, to: 31 },
      { id: "b", from: 2, to: 5 },
      { id: "c", from: 1, to: 10 },
      { id: "a", from: 10, to: 45 },
    ])) {
      seen.push(`${record.id}:${record.seqNo}`);
      expect(record.position).toBeGreaterThan(0);
    }
    const expected = [
      ...Array.from({ length: 31 }, (_, i) => `d:${i + 1}`),
      "b:2",
      ...Array.from({ length: 36 }, (_, i) => `a:${i + 10}`),
    ];
    expect(seen).toEqual(expected);
  });

  it("yields nothing for empty ranges and no ranges", async () => {
    const none: unknown[] = [];
    for await (const r of log.evtsByIds("counter", [{ id: "a", from: 5, to: 4 }])) none.push(r);
    for await (const r of log.evtsByIds("counter", [])) none.push(r);
    expect(none).toEqual([]);
  });

  it.each([
    [
      "a duplicate id",
      [
        { id: "a", from: 1, to: 2 },
        { id: "a", from: 3, to: 4 },
      ],
    ],
    ["an invalid id", [{ id: "", from: 1, to: 2 }]],
    ["a from below 1", [{ id: "a", from: 0, to: 2 }]],
    ["a to that is not an integer", [{ id: "a", from: 1, to: 2.5 }]],
  ])("refuses %s with InvalidArgumentError on the first next()", async (_, ranges) => {
    const iterable = log.evtsByIds("counter", ranges);
    await expect(iterable[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("Entity.spawnMany recovers each entity to what spawn recovers", async () => {
    const ids = ["a", "b", "c", "d"];
    const many = await Entity.spawnMany(ids, counter, { evtLog: log, logger: silentLogger });
    for (const [i, id] of ids.entries()) {
      const one = await Entity.spawn(id, counter, { evtLog: log, logger: silentLogger });
      expect(many[i]!.seqNo).toBe(one.seqNo);
      expect(await many[i]!.handleCmd({ type: "get" })).toEqual(await one.handleCmd({ type: "get" }));
      await one.stop();
      await many[i]!.stop();
    }
  });
});
