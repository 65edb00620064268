import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ErrorCode,
  InvalidArgumentError,
  isEventSourcedError,
  SeqNoConflictError,
} from "../../errors/index.js";
import {
  type EvtLog,
  type EvtRecord,
  MAX_ID_BYTES,
  type NewEvt,
  type TypedEvtRecord,
} from "../../evt-log.js";
import { HOSTILE_IDS, uniqueTypeName } from "../test-ids.js";
import { describeEvtLogRetentionCases } from "./evt-log-retention-contract.js";

/** What a contract-suite factory returns: the adapter under test and how to clean it up. */
export interface ContractSubject<T> {
  readonly subject: T;
  /** Called once after the suite (drop the schema, delete the stream, close connections). */
  readonly cleanup?: (() => Promise<void>) | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function evt(text: string, extra: Omit<NewEvt, "bytes"> = {}): NewEvt {
  return { bytes: encoder.encode(text), ...extra };
}

async function collect<T>(iterable: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of iterable) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}

const text = (record: EvtRecord) => decoder.decode(record.bytes);

/** Options of {@link describeEvtLogContract}. */
export interface EvtLogContractOptions {
  /**
   * Also run the retention cases (`EvtLogRetention`: deleting a prefix, never rewinding, reset). Default
   * true; a log that cannot delete events passes false.
   */
  readonly retention?: boolean | undefined;
}

/**
 * The EvtLog contract as a vitest suite. Every adapter runs it unchanged.
 * @example
 * describeEvtLogContract("PostgresEvtLog", async () => {
 *   const log = await PostgresEvtLog.create({ connectionString, schema });
 *   return { subject: log, cleanup: () => log.close() };
 * });
 */
export function describeEvtLogContract(
  name: string,
  factory: () => Promise<ContractSubject<EvtLog>>,
  options: EvtLogContractOptions = {},
): void {
  describe(`EvtLog contract: ${name}`, () => {
    let log: EvtLog;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const made = await factory();
      log = made.subject;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it("reports last seqNo 0 for an entity without events", async () => {
      expect(await log.lastSeqNo(uniqueTypeName(), "nobody")).toBe(0);
    });

    it("persists a first batch with expected seqNo 0 and returns the new last seqNo", async () => {
      const type = uniqueTypeName();
      expect((await log.persist(type, "e1", 0, [evt("a"), evt("b")])).seqNo).toBe(2);
      expect(await log.lastSeqNo(type, "e1")).toBe(2);
      expect((await log.persist(type, "e1", 2, [evt("c")])).seqNo).toBe(3);
      expect(await log.lastSeqNo(type, "e1")).toBe(3);
    });

    it("returns the position of a persist's last event, as evtsByType reports it", async () => {
      const type = uniqueTypeName();
      const first = await log.persist(type, "p1", 0, [evt("a"), evt("b")]);
      const second = await log.persist(type, "p2", 0, [evt("c")]);
      const third = await log.persist(type, "p1", 2, [evt("d")]);
      const byType = await collect(log.evtsByType(type));
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
      await log.persist(type, "e1", 0, [
        evt("one", { contentType: "application/json" }),
        evt("two", {
          contentType: "application/x-protobuf; messageType=x.V2",
          metadata: { correlationId: "corr-1", causationId: "cause-1", headers: { tenant: "t1" } },
        }),
      ]);
      await log.persist(type, "e1", 2, [evt("three")]);
      const records = await collect(log.evtsById(type, "e1", { from: 1 }));
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

    it("keeps arbitrary bytes intact, including empty and non-UTF-8 payloads", async () => {
      const type = uniqueTypeName();
      const payloads = [
        new Uint8Array([]),
        new Uint8Array([0, 255, 254, 0, 1]),
        new Uint8Array(70_000).fill(7),
      ];
      await log.persist(
        type,
        "bin",
        0,
        payloads.map((bytes) => ({ bytes })),
      );
      const records = await collect(log.evtsById(type, "bin", { from: 1 }));
      expect(records.map((r) => Array.from(r.bytes))).toEqual(payloads.map((p) => Array.from(p)));
    });

    it("rejects a persist with expected seqNo 0 for an entity that has events, writing nothing", async () => {
      const type = uniqueTypeName();
      await log.persist(type, "e1", 0, [evt("a")]);
      await expect(log.persist(type, "e1", 0, [evt("x"), evt("y")])).rejects.toBeInstanceOf(
        SeqNoConflictError,
      );
      expect(await log.lastSeqNo(type, "e1")).toBe(1);
      expect((await collect(log.evtsById(type, "e1", { from: 1 }))).map(text)).toEqual(["a"]);
    });

    it("rejects a persist whose expected seqNo is stale or ahead, writing nothing", async () => {
      const type = uniqueTypeName();
      await log.persist(type, "e1", 0, [evt("a"), evt("b")]);
      const stale = log.persist(type, "e1", 1, [evt("x")]);
      await expect(stale).rejects.toBeInstanceOf(SeqNoConflictError);
      await expect(stale).rejects.toMatchObject({
        code: "SEQNO_CONFLICT",
        type,
        id: "e1",
        expectedLastSeqNo: 1,
      });
      await expect(log.persist(type, "e1", 5, [evt("x")])).rejects.toBeInstanceOf(SeqNoConflictError);
      await expect(log.persist(type, "fresh", 3, [evt("x")])).rejects.toBeInstanceOf(SeqNoConflictError);
      expect(await log.lastSeqNo(type, "e1")).toBe(2);
      expect(await log.lastSeqNo(type, "fresh")).toBe(0);
    });

    it("lets exactly one of several concurrent writers with the same expected seqNo win", async () => {
      const type = uniqueTypeName();
      await log.persist(type, "race", 0, [evt("base")]);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => log.persist(type, "race", 1, [evt(`w${i}-1`), evt(`w${i}-2`)])),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(7);
      for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(SeqNoConflictError);
      const records = await collect(log.evtsById(type, "race", { from: 1 }));
      expect(records.map((r) => r.seqNo)).toEqual([1, 2, 3]);
      const winner = text(records[1]!).split("-")[0];
      expect(records.slice(1).map(text)).toEqual([`${winner}-1`, `${winner}-2`]);
    });

    it("lets exactly one of several concurrent first writers (expected 0) win", async () => {
      const type = uniqueTypeName();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => log.persist(type, "first", 0, [evt(`w${i}`)])),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(await log.lastSeqNo(type, "first")).toBe(1);
    });

    it("persists concurrently for many entities, each getting contiguous seqNos", async () => {
      const type = uniqueTypeName();
      const ids = Array.from({ length: 50 }, (_, i) => `entity-${i}`);
      for (let round = 0; round < 3; round++) {
        const last = await Promise.all(
          ids.map((id) => log.persist(type, id, round * 2, [evt(`${id}/${round}a`), evt(`${id}/${round}b`)])),
        );
        expect(last.map((p) => p.seqNo)).toEqual(ids.map(() => round * 2 + 2));
        // Positions are unique across the batch, whatever order the log wrote it in.
        expect(new Set(last.map((p) => p.position)).size).toBe(ids.length);
      }
      for (const id of ids.slice(0, 5)) {
        const records = await collect(log.evtsById(type, id, { from: 1 }));
        expect(records.map((r) => r.seqNo)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(records.map(text)).toEqual([0, 1, 2].flatMap((r) => [`${id}/${r}a`, `${id}/${r}b`]));
      }
    });

    it("reads a bounded range of seqNos", async () => {
      const type = uniqueTypeName();
      await log.persist(
        type,
        "r",
        0,
        Array.from({ length: 10 }, (_, i) => evt(`e${i + 1}`)),
      );
      expect((await collect(log.evtsById(type, "r", { from: 3, to: 6 }))).map((r) => r.seqNo)).toEqual([
        3, 4, 5, 6,
      ]);
      expect((await collect(log.evtsById(type, "r", { from: 8 }))).map((r) => r.seqNo)).toEqual([8, 9, 10]);
      expect(await collect(log.evtsById(type, "r", { from: 11 }))).toEqual([]);
      expect(await collect(log.evtsById(type, "r", { from: 5, to: 4 }))).toEqual([]);
      expect(await collect(log.evtsById(type, "nobody", { from: 1 }))).toEqual([]);
    });

    it("streams a long history in order, across whatever pages the adapter uses", async () => {
      const type = uniqueTypeName();
      let last = 0;
      for (let batch = 0; batch < 25; batch++) {
        last = (
          await log.persist(
            type,
            "long",
            last,
            Array.from({ length: 100 }, (_, i) => evt(`${batch * 100 + i + 1}`)),
          )
        ).seqNo;
        await log.persist(type, `noise-${batch}`, 0, [evt("noise")]);
      }
      let expected = 1;
      for await (const record of log.evtsById(type, "long", { from: 1 })) {
        expect(record.seqNo).toBe(expected);
        expect(text(record)).toBe(String(expected));
        expected++;
      }
      expect(expected).toBe(2_501);
    });

    it("can stop reading early without affecting later reads", async () => {
      const type = uniqueTypeName();
      await log.persist(
        type,
        "s",
        0,
        Array.from({ length: 20 }, (_, i) => evt(`${i}`)),
      );
      expect(await collect(log.evtsById(type, "s", { from: 1 }), 3)).toHaveLength(3);
      expect(await collect(log.evtsById(type, "s", { from: 1 }))).toHaveLength(20);
    });

    it("keeps hostile ids apart: each is its own entity and cannot see another's events", async () => {
      const type = uniqueTypeName();
      for (const id of HOSTILE_IDS) await log.persist(type, id, 0, [evt(`for ${id}`)]);
      for (const id of HOSTILE_IDS) {
        expect(await log.lastSeqNo(type, id)).toBe(1);
        expect((await collect(log.evtsById(type, id, { from: 1 }))).map(text)).toEqual([`for ${id}`]);
      }
      const byType = await collect(log.evtsByType(type));
      expect(byType.map((r) => r.id).sort()).toEqual([...HOSTILE_IDS].sort());
    });

    it("keeps entity types apart", async () => {
      const a = uniqueTypeName("a");
      const b = uniqueTypeName("b");
      await log.persist(a, "same", 0, [evt("in a")]);
      await log.persist(b, "same", 0, [evt("in b"), evt("in b 2")]);
      expect(await log.lastSeqNo(a, "same")).toBe(1);
      expect((await collect(log.evtsById(b, "same", { from: 1 }))).map(text)).toEqual(["in b", "in b 2"]);
      expect((await collect(log.evtsByType(a))).map(text)).toEqual(["in a"]);
    });

    it("rejects an empty id, an invalid type name and an empty batch with InvalidArgumentError", async () => {
      const type = uniqueTypeName();
      await expect(log.persist(type, "", 0, [evt("x")])).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(log.persist("bad.type", "x", 0, [evt("x")])).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(log.persist("*", "x", 0, [evt("x")])).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(log.persist(type, "x", 0, [])).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(log.persist(type, "x", -1, [evt("x")])).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(log.persist(type, "x", 1.5, [evt("x")])).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await log.lastSeqNo(type, "x")).toBe(0);
    });

    it("applies the id rules everywhere: a lone surrogate, a NUL or more than MAX_ID_BYTES is refused", async () => {
      const type = uniqueTypeName();
      const bad = [
        "\uD800",
        "a\uDC00b",
        "nul\u0000inside",
        "x".repeat(MAX_ID_BYTES + 1),
        // 171 three-byte characters: 513 bytes of UTF-8 in 171 UTF-16 units.
        "\u20AC".repeat(171),
      ];
      for (const id of bad) {
        for (const call of [
          () => log.persist(type, id, 0, [evt("x")]),
          () => log.lastSeqNo(type, id),
          () => collect(log.evtsById(type, id, { from: 1 })),
        ]) {
          // Whether an adapter throws at the call or when iterating, the caller sees the same error.
          const error = await (async () => call())().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(
            isEventSourcedError(error, ErrorCode.InvalidArgument),
            `id ${JSON.stringify(id.slice(0, 20))}`,
          ).toBe(true);
        }
      }
      expect((await collect(log.evtsByType(type))).length).toBe(0);
    });

    it("accepts an id of exactly MAX_ID_BYTES bytes, incompressible, and keeps it apart from its neighbours", async () => {
      const type = uniqueTypeName();
      // Random characters from several scripts: nothing for a database to compress.
      const alphabet = "abcdefghijklmnopqrstuvwxyzäöüßéñ日本語中文한국어🎉🚀";
      let id = "";
      while (Buffer.byteLength(id, "utf8") < MAX_ID_BYTES - 4) {
        id += [...alphabet][Math.floor(Math.random() * [...alphabet].length)];
      }
      id += "z".repeat(MAX_ID_BYTES - Buffer.byteLength(id, "utf8"));
      expect(Buffer.byteLength(id, "utf8")).toBe(MAX_ID_BYTES);
      await log.persist(type, id, 0, [evt("long id")]);
      await log.persist(type, `${id.slice(0, -1)}y`, 0, [evt("neighbour")]);
      expect(await log.lastSeqNo(type, id)).toBe(1);
      expect((await collect(log.evtsById(type, id, { from: 1 }))).map(text)).toEqual(["long id"]);
      expect((await collect(log.evtsByType(type))).map((r) => r.id)).toContain(id);
    });

    it("refuses evtsById from a seqNo below 1 with InvalidArgumentError", async () => {
      const type = uniqueTypeName();
      await log.persist(type, "x", 0, [evt("x")]);
      for (const from of [0, -1, 1.5]) {
        const error = await (async () => collect(log.evtsById(type, "x", { from })))().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isEventSourcedError(error, ErrorCode.InvalidArgument), `from ${from}`).toBe(true);
      }
    });

    it("reads all events of a type in position order, each with its id and seqNo", async () => {
      const type = uniqueTypeName();
      await log.persist(type, "x", 0, [evt("x1"), evt("x2")]);
      await log.persist(type, "y", 0, [evt("y1")]);
      await log.persist(type, "x", 2, [evt("x3")]);
      const records = await collect(log.evtsByType(type));
      expect(records.map(text)).toEqual(["x1", "x2", "y1", "x3"]);
      expect(records.map((r) => [r.id, r.seqNo])).toEqual([
        ["x", 1],
        ["x", 2],
        ["y", 1],
        ["x", 3],
      ]);
      for (const r of records) expect(r.type).toBe(type);
      const positions = records.map((r) => r.position);
      expect([...positions].sort((p, q) => p - q)).toEqual(positions);
      expect(new Set(positions).size).toBe(positions.length);
    });

    it("resumes a by-type read after a given position", async () => {
      const type = uniqueTypeName();
      await log.persist(type, "x", 0, [evt("1"), evt("2"), evt("3")]);
      await log.persist(type, "y", 0, [evt("4")]);
      const all = await collect(log.evtsByType(type));
      const rest = await collect(log.evtsByType(type, { after: all[1]!.position }));
      expect(rest.map(text)).toEqual(["3", "4"]);
      expect(await collect(log.evtsByType(type, { after: all[3]!.position }))).toEqual([]);
    });

    it("tails live by type: delivers stored events, then new ones as they are persisted, until aborted", async () => {
      const type = uniqueTypeName();
      await log.persist(type, "x", 0, [evt("stored")]);
      const controller = new AbortController();
      const seen: TypedEvtRecord[] = [];
      const reader = (async () => {
        for await (const record of log.evtsByType(type, { live: true, signal: controller.signal })) {
          seen.push(record);
          if (seen.length === 4) controller.abort();
        }
      })();
      await waitFor(() => seen.length >= 1);
      await log.persist(type, "x", 1, [evt("live1")]);
      await log.persist(type, "y", 0, [evt("live2"), evt("live3")]);
      await reader;
      expect(seen.map(text)).toEqual(["stored", "live1", "live2", "live3"]);
      const positions = seen.map((r) => r.position);
      expect([...positions].sort((p, q) => p - q)).toEqual(positions);
    });

    it("ends a live by-type read that is waiting for events when its signal aborts", async () => {
      const type = uniqueTypeName();
      const controller = new AbortController();
      const reader = collect(log.evtsByType(type, { live: true, signal: controller.signal }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort();
      expect(await reader).toEqual([]);
    });

    it("delivers every event exactly once to a live reader while many entities write concurrently", async () => {
      const type = uniqueTypeName();
      const controller = new AbortController();
      const total = 20 * 10;
      const seen: TypedEvtRecord[] = [];
      const reader = (async () => {
        for await (const record of log.evtsByType(type, { live: true, signal: controller.signal })) {
          seen.push(record);
          if (seen.length === total) controller.abort();
        }
      })();
      await Promise.all(
        Array.from({ length: 20 }, async (_, e) => {
          for (let i = 0; i < 10; i++) await log.persist(type, `w${e}`, i, [evt(`${e}/${i}`)]);
        }),
      );
      const timer = setTimeout(() => controller.abort(), 10_000);
      await reader;
      clearTimeout(timer);
      expect(seen).toHaveLength(total);
      expect(new Set(seen.map((r) => `${r.id}/${r.seqNo}`)).size).toBe(total);
      const positions = seen.map((r) => r.position);
      expect([...positions].sort((p, q) => p - q)).toEqual(positions);
      for (let e = 0; e < 20; e++) {
        expect(seen.filter((r) => r.id === `w${e}`).map((r) => r.seqNo)).toEqual([
          1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
        ]);
      }
    });

    if (options.retention ?? true) describeEvtLogRetentionCases(() => log);
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
