import { expect, it } from "vitest";
import { ErrorCode, isEventSourcedError, SeqNoConflictError } from "../../errors/index.js";
import type { EvtLog, NewEvt } from "../../evt-log.js";
import { uniqueTypeName } from "../test-ids.js";
import { collect, evt, text } from "./evt-log-contract-support.js";

/**
 * The write cases of the EvtLog contract: persisting, positions, bytes, conflicts and concurrent writers.
 * Registered by `describeEvtLogContract` inside its suite; `log` returns the subject once the suite's
 * `beforeAll` has made it.
 */
export function describeEvtLogWriteCases(log: () => EvtLog): void {
  it("reports last seqNo 0 for an entity without events", async () => {
    expect(await log().lastSeqNo(uniqueTypeName(), "nobody")).toBe(0);
  });

  it("persists a first batch with expected seqNo 0 and returns the new last seqNo", async () => {
    const type = uniqueTypeName();
    expect((await log().persist(type, "e1", 0, [evt("a"), evt("b")])).seqNo).toBe(2);
    expect(await log().lastSeqNo(type, "e1")).toBe(2);
    expect((await log().persist(type, "e1", 2, [evt("c")])).seqNo).toBe(3);
    expect(await log().lastSeqNo(type, "e1")).toBe(3);
  });

  it("returns the position of a persist's last event, as evtsByType reports it", async () => {
    const type = uniqueTypeName();
    const first = await log().persist(type, "p1", 0, [evt("a"), evt("b")]);
    const second = await log().persist(type, "p2", 0, [evt("c")]);
    const third = await log().persist(type, "p1", 2, [evt("d")]);
    const byType = await collect(log().evtsByType(type));
    const positionOf = (id: string, seqNo: number) =>
      byType.find((r) => r.id === id && r.seqNo === seqNo)?.position;
    expect(first.position).toBe(positionOf("p1", 2));
    expect(second.position).toBe(positionOf("p2", 1));
    expect(third.position).toBe(positionOf("p1", 3));
    expect(first.position).toBeLessThan(second.position);
    expect(second.position).toBeLessThan(third.position);
  });

  it("reads back events in seqNo order with bytes, recordedAt, content type and metadata", async () => {
    const type = uniqueTypeName();
    const before = Date.now();
    await log().persist(type, "e1", 0, [
      evt("one", { contentType: "application/json" }),
      evt("two", {
        contentType: "application/x-protobuf; messageType=x.V2",
        metadata: { correlationId: "corr-1", causationId: "cause-1", headers: { tenant: "t1" } },
      }),
    ]);
    await log().persist(type, "e1", 2, [evt("three")]);
    const records = await collect(log().evtsById(type, "e1", { from: 1 }));
    expect(records.map((r) => r.seqNo)).toEqual([1, 2, 3]);
    expect(records.map(text)).toEqual(["one", "two", "three"]);
    expect(records[0]!.contentType).toBe("application/json");
    expect(records[1]!.contentType).toBe("application/x-protobuf; messageType=x.V2");
    expect(records[1]!.metadata).toEqual({
      correlationId: "corr-1",
      causationId: "cause-1",
      headers: { tenant: "t1" },
    });
    expect(records[2]!.metadata ?? {}).toEqual({});
    for (const r of records) {
      expect(r.recordedAt).toBeInstanceOf(Date);
      expect(r.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 5_000);
      expect(r.recordedAt.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
    }
  });

  it("stores metadata strings exactly: quotes, escapes, newlines, unicode and empty strings", async () => {
    const type = uniqueTypeName();
    const odd = `"quoted" \\ back\nslash\r\n\t {json} 'sql' -- ; DROP TABLE x; \u00e9\u65e5\u{1F680}`;
    const metadata = {
      correlationId: odd,
      causationId: "",
      headers: { [odd]: odd, empty: "", "Es-Expected-Last-Subject-Sequence": "7", "\\u0000": "x" },
    };
    await log().persist(type, "odd", 0, [evt("x", { metadata })]);
    const [record] = await collect(log().evtsById(type, "odd", { from: 1 }));
    expect(record!.metadata).toEqual(metadata);
  });

  it("refuses metadata that not every log could store alike with InvalidArgumentError, writing nothing", async () => {
    const type = uniqueTypeName();
    const bad: unknown[] = [
      null,
      "text",
      [],
      { tenant: "t1" },
      { correlationId: 5 },
      { causationId: "a\u0000b" },
      { correlationId: "\uD800" },
      { headers: [] },
      { headers: { k: 1 } },
      { headers: { "a\u0000": "v" } },
      { headers: { k: "\uDC00" } },
    ];
    for (const metadata of bad) {
      const persist = async () => log().persist(type, "m", 0, [{ ...evt("x"), metadata } as NewEvt]);
      const error = await persist().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isEventSourcedError(error, ErrorCode.InvalidArgument), JSON.stringify(metadata)).toBe(true);
    }
    expect(await log().lastSeqNo(type, "m")).toBe(0);
  });

  it("keeps arbitrary bytes intact, including empty and non-UTF-8 payloads", async () => {
    const type = uniqueTypeName();
    const payloads = [
      new Uint8Array([]),
      new Uint8Array([0, 255, 254, 0, 1]),
      new Uint8Array(70_000).fill(7),
    ];
    await log().persist(
      type,
      "bin",
      0,
      payloads.map((bytes) => ({ bytes })),
    );
    const records = await collect(log().evtsById(type, "bin", { from: 1 }));
    expect(records.map((r) => Array.from(r.bytes))).toEqual(payloads.map((p) => Array.from(p)));
  });

  it("rejects a persist with expected seqNo 0 for an entity that has events, writing nothing", async () => {
    const type = uniqueTypeName();
    await log().persist(type, "e1", 0, [evt("a")]);
    await expect(log().persist(type, "e1", 0, [evt("x"), evt("y")])).rejects.toBeInstanceOf(
      SeqNoConflictError,
    );
    expect(await log().lastSeqNo(type, "e1")).toBe(1);
    expect((await collect(log().evtsById(type, "e1", { from: 1 }))).map(text)).toEqual(["a"]);
  });

  it("rejects a persist whose expected seqNo is stale or ahead, writing nothing", async () => {
    const type = uniqueTypeName();
    await log().persist(type, "e1", 0, [evt("a"), evt("b")]);
    const stale = log().persist(type, "e1", 1, [evt("x")]);
    await expect(stale).rejects.toBeInstanceOf(SeqNoConflictError);
    await expect(stale).rejects.toMatchObject({
      code: "SEQNO_CONFLICT",
      type,
      id: "e1",
      expectedLastSeqNo: 1,
    });
    await expect(log().persist(type, "e1", 5, [evt("x")])).rejects.toBeInstanceOf(SeqNoConflictError);
    await expect(log().persist(type, "fresh", 3, [evt("x")])).rejects.toBeInstanceOf(SeqNoConflictError);
    expect(await log().lastSeqNo(type, "e1")).toBe(2);
    expect(await log().lastSeqNo(type, "fresh")).toBe(0);
  });

  it("lets exactly one of several concurrent writers with the same expected seqNo win", async () => {
    const type = uniqueTypeName();
    await log().persist(type, "race", 0, [evt("base")]);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => log().persist(type, "race", 1, [evt(`w${i}-1`), evt(`w${i}-2`)])),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(SeqNoConflictError);
    const records = await collect(log().evtsById(type, "race", { from: 1 }));
    expect(records.map((r) => r.seqNo)).toEqual([1, 2, 3]);
    const winner = text(records[1]!).split("-")[0];
    expect(records.slice(1).map(text)).toEqual([`${winner}-1`, `${winner}-2`]);
  });

  it("lets exactly one of several concurrent first writers (expected 0) win", async () => {
    const type = uniqueTypeName();
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => log().persist(type, "first", 0, [evt(`w${i}`)])),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await log().lastSeqNo(type, "first")).toBe(1);
  });

  it("persists concurrently for many entities, each getting contiguous seqNos", async () => {
    const type = uniqueTypeName();
    const ids = Array.from({ length: 50 }, (_, i) => `entity-${i}`);
    for (let round = 0; round < 3; round++) {
      const last = await Promise.all(
        ids.map((id) => log().persist(type, id, round * 2, [evt(`${id}/${round}a`), evt(`${id}/${round}b`)])),
      );
      expect(last.map((p) => p.seqNo)).toEqual(ids.map(() => round * 2 + 2));
      // Positions are unique across the batch, whatever order the log wrote it in.
      expect(new Set(last.map((p) => p.position)).size).toBe(ids.length);
    }
    for (const id of ids.slice(0, 5)) {
      const records = await collect(log().evtsById(type, id, { from: 1 }));
      expect(records.map((r) => r.seqNo)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(records.map(text)).toEqual([0, 1, 2].flatMap((r) => [`${id}/${r}a`, `${id}/${r}b`]));
    }
  });
}
