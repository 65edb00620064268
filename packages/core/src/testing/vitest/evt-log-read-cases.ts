import { expect, it } from "vitest";
import { ErrorCode, InvalidArgumentError, isEventSourcedError } from "../../errors/index.js";
import { type EvtLog, MAX_ID_BYTES } from "../../evt-log.js";
import { HOSTILE_IDS, uniqueTypeName } from "../test-ids.js";
import { collect, evt, text } from "./evt-log-contract-support.js";

/**
 * The by-id read cases of the EvtLog contract: ranges, long histories, early stops, hostile ids and the id rules.
 * Registered by `describeEvtLogContract` inside its suite; `log` returns the subject once the suite's
 * `beforeAll` has made it.
 */
export function describeEvtLogReadCases(log: () => EvtLog): void {
  it("reads a bounded range of seqNos", async () => {
    const type = uniqueTypeName();
    await log().persist(
      type,
      "r",
      0,
      Array.from({ length: 10 }, (_, i) => evt(`e${i + 1}`)),
    );
    expect((await collect(log().evtsById(type, "r", { from: 3, to: 6 }))).map((r) => r.seqNo)).toEqual([
      3, 4, 5, 6,
    ]);
    expect((await collect(log().evtsById(type, "r", { from: 8 }))).map((r) => r.seqNo)).toEqual([8, 9, 10]);
    expect(await collect(log().evtsById(type, "r", { from: 11 }))).toEqual([]);
    expect(await collect(log().evtsById(type, "r", { from: 5, to: 4 }))).toEqual([]);
    expect(await collect(log().evtsById(type, "nobody", { from: 1 }))).toEqual([]);
  });

  it("streams a long history in order, across whatever pages the adapter uses", async () => {
    const type = uniqueTypeName();
    let last = 0;
    for (let batch = 0; batch < 25; batch++) {
      last = (
        await log().persist(
          type,
          "long",
          last,
          Array.from({ length: 100 }, (_, i) => evt(`${batch * 100 + i + 1}`)),
        )
      ).seqNo;
      await log().persist(type, `noise-${batch}`, 0, [evt("noise")]);
    }
    let expected = 1;
    for await (const record of log().evtsById(type, "long", { from: 1 })) {
      expect(record.seqNo).toBe(expected);
      expect(text(record)).toBe(String(expected));
      expected++;
    }
    expect(expected).toBe(2_501);
  });

  it("can stop reading early without affecting later reads", async () => {
    const type = uniqueTypeName();
    await log().persist(
      type,
      "s",
      0,
      Array.from({ length: 20 }, (_, i) => evt(`${i}`)),
    );
    expect(await collect(log().evtsById(type, "s", { from: 1 }), 3)).toHaveLength(3);
    expect(await collect(log().evtsById(type, "s", { from: 1 }))).toHaveLength(20);
  });

  it("keeps hostile ids apart: each is its own entity and cannot see another's events", async () => {
    const type = uniqueTypeName();
    for (const id of HOSTILE_IDS) await log().persist(type, id, 0, [evt(`for ${id}`)]);
    for (const id of HOSTILE_IDS) {
      expect(await log().lastSeqNo(type, id)).toBe(1);
      expect((await collect(log().evtsById(type, id, { from: 1 }))).map(text)).toEqual([`for ${id}`]);
    }
    const byType = await collect(log().evtsByType(type));
    expect(byType.map((r) => r.id).sort()).toEqual([...HOSTILE_IDS].sort());
  });

  it("keeps entity types apart", async () => {
    const a = uniqueTypeName("a");
    const b = uniqueTypeName("b");
    await log().persist(a, "same", 0, [evt("in a")]);
    await log().persist(b, "same", 0, [evt("in b"), evt("in b 2")]);
    expect(await log().lastSeqNo(a, "same")).toBe(1);
    expect((await collect(log().evtsById(b, "same", { from: 1 }))).map(text)).toEqual(["in b", "in b 2"]);
    expect((await collect(log().evtsByType(a))).map(text)).toEqual(["in a"]);
  });

  it("rejects an empty id, an invalid type name and an empty batch with InvalidArgumentError", async () => {
    const type = uniqueTypeName();
    await expect(log().persist(type, "", 0, [evt("x")])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log().persist("bad.type", "x", 0, [evt("x")])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log().persist("*", "x", 0, [evt("x")])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log().persist(type, "x", 0, [])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log().persist(type, "x", -1, [evt("x")])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log().persist(type, "x", 1.5, [evt("x")])).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await log().lastSeqNo(type, "x")).toBe(0);
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
        () => log().persist(type, id, 0, [evt("x")]),
        () => log().lastSeqNo(type, id),
        () => collect(log().evtsById(type, id, { from: 1 })),
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
    expect((await collect(log().evtsByType(type))).length).toBe(0);
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
    await log().persist(type, id, 0, [evt("long id")]);
    await log().persist(type, `${id.slice(0, -1)}y`, 0, [evt("neighbour")]);
    expect(await log().lastSeqNo(type, id)).toBe(1);
    expect((await collect(log().evtsById(type, id, { from: 1 }))).map(text)).toEqual(["long id"]);
    expect((await collect(log().evtsByType(type))).map((r) => r.id)).toContain(id);
  });

  it("refuses evtsById from a seqNo below 1 with InvalidArgumentError", async () => {
    const type = uniqueTypeName();
    await log().persist(type, "x", 0, [evt("x")]);
    for (const from of [0, -1, 1.5]) {
      const error = await (async () => collect(log().evtsById(type, "x", { from })))().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isEventSourcedError(error, ErrorCode.InvalidArgument), `from ${from}`).toBe(true);
    }
  });
}
