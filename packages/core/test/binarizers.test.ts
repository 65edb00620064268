import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import {
  DecodeError,
  defineEntity,
  Entity,
  emitAndReply,
  jsonBinarizer,
  jsonFromBytes,
  jsonToBytes,
  type ProtobufMessageType,
  protobufBinarizer,
} from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";

interface Ledger {
  readonly total: bigint;
  readonly entries: readonly { readonly amount: bigint; readonly note: string }[];
}

describe("JSON binarizer", () => {
  it("writes the bytes TextEncoder would, lone surrogates included, and views that read through byteOffset", () => {
    const values = [
      { note: "plain" },
      { note: "é ß 中 😀" },
      { note: "lone \ud800 and \udc00" },
      [1, 2n, null],
      "",
    ];
    const encoder = new TextEncoder();
    for (const value of values) {
      const bytes = jsonToBytes(value);
      const expected = encoder.encode(
        JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? { $bigint: `${v}` } : v)),
      );
      expect(Array.from(bytes)).toEqual(Array.from(expected));
      // A copy through the view's own window, as the logs take it, holds exactly these bytes.
      expect(Array.from(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))).toEqual(
        Array.from(expected),
      );
    }
  });

  it("decodes a $bigint key however it is spelled, and leaves look-alikes alone", () => {
    // Another program may escape any character of the key; JSON.parse reads both as the same key.
    const escaped = new TextEncoder().encode('{"\\u0024bigint":"5","n":{"$big\\u0069nt":"6"}}');
    expect(jsonFromBytes(escaped)).toEqual({ $bigint: "5", n: 6n });
    expect(jsonFromBytes(new TextEncoder().encode('{"\\u0024bigint":"7"}'))).toBe(7n);
    const lookAlikes = { note: "$bigint", other: { $bigint: 5 }, two: { $bigint: "5", x: 1 } };
    expect(jsonFromBytes(jsonToBytes(lookAlikes))).toEqual(lookAlikes);
    expect(jsonFromBytes(new TextEncoder().encode('{"note":"caf\\u00e9"}'))).toEqual({ note: "café" });
  });

  it("round-trips a value's own $bigint keys, so a payload cannot pass for a bigint once read back", () => {
    const values = [
      { $bigint: "not-a-number" },
      { $bigint: "12" },
      { $$bigint: "x", $$$bigint: [{ $bigint: "1" }], other: 2n },
      [{ $bigint: "3" }, 4n],
    ];
    for (const value of values) expect(jsonFromBytes(jsonToBytes(value))).toEqual(value);
    // Only the encoder's own form is a bigint.
    expect(jsonFromBytes(jsonToBytes(12n))).toBe(12n);
    // An own key "__proto__" beside a reserved key stays an own key both ways (copies define, not assign).
    const odd = JSON.parse('{"__proto__":{"polluted":1},"$bigint":"7","k":2}') as Record<string, unknown>;
    const back = jsonFromBytes<Record<string, unknown>>(jsonToBytes(odd));
    expect(Object.keys(back)).toEqual(["__proto__", "$bigint", "k"]);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect((back as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("an entity whose command carried a $bigint key recovers with the same state", async () => {
    type Item = { readonly item: unknown };
    const notes = defineEntity<readonly unknown[], unknown, Item, readonly unknown[]>({
      typeName: "notes",
      initialState: () => [],
      handleCmd: (_state, item) =>
        emitAndReply<readonly unknown[], Item, readonly unknown[]>([{ item }], (s) => s),
      handleEvt: (state, evt) => [...state, evt.item],
    });
    const evtLog = new InMemoryEvtLog();
    const first = await Entity.spawn("n", notes, { evtLog });
    await first.handleCmd({ $bigint: "not-a-number" });
    const live = await first.handleCmd({ $bigint: "12" });
    await first.stop();
    const second = await Entity.spawn("n", notes, { evtLog });
    const recovered = await second.handleCmd("last");
    expect(live).toMatchObject({ reply: [{ $bigint: "not-a-number" }, { $bigint: "12" }] });
    expect(recovered).toMatchObject({ reply: [{ $bigint: "not-a-number" }, { $bigint: "12" }, "last"] });
  });

  it("refuses to encode a value that has no JSON text instead of writing nothing", () => {
    for (const value of [undefined, () => 1, Symbol("s")]) {
      expect(() => jsonToBytes(value)).toThrow(/has no JSON encoding/);
    }
  });

  it("refuses what JSON would read back as null (NaN, infinities, undefined array elements), keeps real nulls", () => {
    for (const value of [
      { a: Number.NaN },
      { a: [1, Number.POSITIVE_INFINITY] },
      [1, undefined],
      { n: 1n, x: -Infinity },
    ]) {
      expect(() => jsonToBytes(value)).toThrow(/read back as null/);
    }
    const nulls = { x: null, y: [null, 1], z: { $bigint: null } };
    expect(jsonFromBytes(jsonToBytes(nulls))).toEqual(nulls);
    // Also when the text holds the reserved word (the escaping path).
    expect(() => jsonToBytes({ a: Number.NaN, note: "costs $bigint" })).toThrow(/read back as null/);
  });

  it("a command whose event holds NaN fails with ENCODE_FAILED and persists nothing", async () => {
    const measured = defineEntity<number, number, { readonly value: number }, number>({
      typeName: "measured",
      initialState: () => 0,
      handleCmd: (_state, value) => emitAndReply<number, { value: number }, number>([{ value }], (s) => s),
      handleEvt: (state) => state + 1,
    });
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("m", measured, { evtLog });
    await expect(ref.handleCmd(0 / 0)).rejects.toMatchObject({ code: "ENCODE_FAILED" });
    expect(await evtLog.lastSeqNo("measured", "m")).toBe(0);
    expect(await ref.handleCmd(1)).toMatchObject({ kind: "accepted", seqNo: 1 });
  });

  it("round-trips bigints, nested and at the top level", () => {
    const value: Ledger = { total: 2n ** 70n, entries: [{ amount: -(2n ** 64n), note: "x" }] };
    expect(jsonFromBytes<Ledger>(jsonToBytes(value))).toEqual(value);
    expect(jsonFromBytes<bigint>(jsonToBytes(123n))).toBe(123n);
  });

  it("an entity with bigint events and state survives persist, snapshot and recovery", async () => {
    const ledger = defineEntity<Ledger, bigint, { readonly amount: bigint }, bigint>({
      typeName: "ledger",
      initialState: () => ({ total: 0n, entries: [] }),
      handleCmd: (_state, amount) =>
        emitAndReply<Ledger, { amount: bigint }, bigint>([{ amount }], (s) => s.total),
      handleEvt: (state, evt) => ({
        total: state.total + evt.amount,
        entries: [...state.entries, { amount: evt.amount, note: "" }],
      }),
    });
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    const binarizer = jsonBinarizer<{ readonly amount: bigint }, Ledger>();
    const options = { evtLog, snapshotStore, binarizer, snapshotAfter: 2 };
    const first = await Entity.spawn("l1", ledger, options);
    await first.handleCmd(2n ** 63n);
    await first.handleCmd(2n ** 63n);
    await first.handleCmd(1n);
    await first.stop();
    const second = await Entity.spawn("l1", ledger, options);
    expect(await second.handleCmd(0n)).toMatchObject({ kind: "accepted", reply: 2n ** 64n + 1n, seqNo: 4 });
  });

  it("rejects bytes that are not UTF-8 JSON", () => {
    expect(() => jsonFromBytes(new Uint8Array([0xff]))).toThrow();
    expect(() => jsonFromBytes(new TextEncoder().encode("{"))).toThrow();
  });
});

interface TallyEvt {
  readonly by: number;
  readonly reason: string;
}
interface TallyState {
  readonly total: number;
  readonly last: string;
}

// protobufjs types built in code (no .proto file, no generator).
const TallyEvtType = new protobuf.Type("TallyEvt")
  .add(new protobuf.Field("by", 1, "sint32"))
  .add(new protobuf.Field("reason", 2, "string"));
const TallyStateType = new protobuf.Type("TallyState")
  .add(new protobuf.Field("total", 1, "sint64"))
  .add(new protobuf.Field("last", 2, "string"));
new protobuf.Root().define("tally.v1").add(TallyEvtType).add(TallyStateType);

/** protobufjs decodes to its reflected message; `toObject` turns it into the plain interface. */
function messageType<T>(type: protobuf.Type): ProtobufMessageType<T> {
  return {
    encode: (message) => type.encode(type.fromObject(message as object)),
    decode: (bytes) => type.toObject(type.decode(bytes), { longs: Number, defaults: true }) as T,
  };
}

describe("protobuf binarizer", () => {
  const binarizer = protobufBinarizer<TallyEvt, TallyState>({
    evt: messageType<TallyEvt>(TallyEvtType),
    state: messageType<TallyState>(TallyStateType),
    evtTypeName: "tally.v1.TallyEvt",
  });
  const tally = defineEntity<TallyState, TallyEvt, TallyEvt, number>({
    typeName: "tally",
    initialState: () => ({ total: 0, last: "" }),
    handleCmd: (_state, cmd) => emitAndReply<TallyState, TallyEvt, number>([cmd], (s) => s.total),
    handleEvt: (state, evt) => ({ total: state.total + evt.by, last: evt.reason }),
  });

  it("round-trips events and state through protobufjs types built in code", () => {
    const evt = { by: -42, reason: "refund" };
    expect(binarizer.evtFromBytes(binarizer.evtToBytes(evt))).toEqual(evt);
    const state = { total: 2 ** 40, last: "x" };
    expect(binarizer.stateFromBytes(binarizer.stateToBytes(state))).toEqual(state);
    expect(binarizer.contentType).toBe("application/x-protobuf; messageType=tally.v1.TallyEvt");
  });

  it("an entity persists protobuf events with their content type and recovers from a protobuf snapshot", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    const options = { evtLog, snapshotStore, binarizer, snapshotAfter: 2 };
    const first = await Entity.spawn("t1", tally, options);
    await first.handleCmd({ by: 5, reason: "a" });
    await first.handleCmd({ by: 7, reason: "b" });
    await first.handleCmd({ by: -2, reason: "c" });
    await first.stop();
    for await (const record of evtLog.evtsById("tally", "t1", { from: 1 })) {
      expect(record.contentType).toBe("application/x-protobuf; messageType=tally.v1.TallyEvt");
    }
    expect(await snapshotStore.load("tally", "t1")).toMatchObject({ seqNo: 2 });
    const second = await Entity.spawn("t1", tally, options);
    expect(await second.handleCmd({ by: 1, reason: "d" })).toMatchObject({
      kind: "accepted",
      reply: 11,
      seqNo: 4,
    });
  });

  it("encodes every message into one writer, and an encode that throws halfway leaves nothing to the next", () => {
    // A writer like ts-proto's and protobufjs': finish() returns what was written and empties it.
    class Writer {
      parts: number[] = [];
      finish(): Uint8Array {
        const bytes = Uint8Array.from(this.parts);
        this.parts = [];
        return bytes;
      }
    }
    const writers = new Set<Writer>();
    const type: ProtobufMessageType<number> = {
      encode(n, writer) {
        const w = writer instanceof Writer ? writer : new Writer();
        writers.add(w);
        w.parts.push(Math.abs(n));
        if (n < 0) throw new RangeError("negative");
        return w;
      },
      decode: (bytes) => bytes[0]!,
    };
    const b = protobufBinarizer({ evt: type, state: type });
    expect(b.evtToBytes(1)).toEqual(Uint8Array.of(1));
    expect(b.evtToBytes(2)).toEqual(Uint8Array.of(2));
    expect(b.stateToBytes(3)).toEqual(Uint8Array.of(3));
    expect(writers.size).toBe(2); // one for events, one for states
    expect(() => b.evtToBytes(-4)).toThrow(RangeError);
    expect(b.evtToBytes(5)).toEqual(Uint8Array.of(5));
    expect(b.evtToBytes(6)).toEqual(Uint8Array.of(6));
  });

  it("a protobufjs Type passed as it is encodes each message alone (its writer keeps what it wrote)", () => {
    // protobufjs' `Writer.finish()` copies what was written and does not empty the writer: a reused one
    // would start each message with every message before it.
    const TagsType = new protobuf.Type("Tags")
      .add(new protobuf.Field("by", 1, "sint32"))
      .add(new protobuf.Field("tags", 2, "string", "repeated"));
    new protobuf.Root().define("tags.v1").add(TagsType);
    const type = TagsType as unknown as ProtobufMessageType<protobuf.Message>;
    const b = protobufBinarizer({ evt: type, state: type });
    const plain = (bytes: Uint8Array) => TagsType.toObject(TagsType.decode(bytes), { defaults: true });
    // An empty message first (all fields default: no bytes), as a zero state's first snapshot would be.
    expect(b.evtToBytes(TagsType.fromObject({}))).toHaveLength(0);
    const first = b.evtToBytes(TagsType.fromObject({ by: 1, tags: ["a"] }));
    const second = b.evtToBytes(TagsType.fromObject({ by: 2, tags: ["b"] }));
    const third = b.stateToBytes(TagsType.fromObject({ by: 3, tags: [] }));
    const fourth = b.stateToBytes(TagsType.fromObject({ by: 4, tags: ["d"] }));
    expect(plain(second)).toEqual({ by: 2, tags: ["b"] });
    expect(plain(fourth)).toEqual({ by: 4, tags: ["d"] });
    // Bytes already returned are never changed by a later encode.
    expect(plain(first)).toEqual({ by: 1, tags: ["a"] });
    expect(plain(third)).toEqual({ by: 3, tags: [] });
    expect(second).toEqual(TagsType.encode(TagsType.fromObject({ by: 2, tags: ["b"] })).finish());
  });

  it("bytes returned by a writer that is reused are never changed by the next encode", () => {
    // ts-proto's writer (`@bufbuild/protobuf/wire`): `finish()` empties it, so it is reused.
    const type: ProtobufMessageType<string> = {
      encode: (s, writer) => {
        const w = writer instanceof BinaryWriter ? writer : new BinaryWriter();
        return w.uint32(10).string(s);
      },
      decode: (bytes) => {
        const reader = new BinaryReader(bytes);
        reader.tag();
        return reader.string();
      },
    };
    const b = protobufBinarizer({ evt: type, state: type });
    const first = b.evtToBytes("x".repeat(300));
    const copy = Uint8Array.from(first);
    b.evtToBytes("y".repeat(300));
    b.evtToBytes("z");
    expect(first).toEqual(copy);
  });

  it("keeps no writer that held a huge message (its buffer never shrinks)", () => {
    // ts-proto's writer keeps its buffer, grown to the largest message written, across finish().
    const given: (BinaryWriter | undefined)[] = [];
    const type: ProtobufMessageType<string> = {
      encode: (s, writer) => {
        given.push(writer instanceof BinaryWriter ? writer : undefined);
        return (writer instanceof BinaryWriter ? writer : new BinaryWriter()).uint32(10).string(s);
      },
      decode: () => "",
    };
    const b = protobufBinarizer({ evt: type, state: type });
    b.stateToBytes("small");
    b.stateToBytes("small");
    const reused = given[1];
    expect(reused).toBeInstanceOf(BinaryWriter);
    expect(b.stateToBytes("x".repeat(1 << 20)).length).toBeGreaterThan(1 << 20);
    b.stateToBytes("small");
    // The writer that grew to 1 MiB (and would keep it for the process's lifetime) was let go.
    expect(given[3] === undefined).toBe(true);
    b.stateToBytes("small");
    expect(given[4]).toBeInstanceOf(BinaryWriter);
    expect(given[4]).not.toBe(reused);
  });

  it("undecodable protobuf bytes fail recovery with a DecodeError naming the seqNo", async () => {
    const evtLog = new InMemoryEvtLog();
    await evtLog.persist("tally", "t1", 0, [{ bytes: binarizer.evtToBytes({ by: 1, reason: "ok" }) }]);
    await evtLog.persist("tally", "t1", 1, [{ bytes: new Uint8Array([0x0a, 0xff, 0xff, 0xff]) }]);
    const error = await Entity.spawn("t1", tally, { evtLog, binarizer }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ what: "event", seqNo: 2 });
  });
});
