import { BinaryWriter } from "@bufbuild/protobuf/wire";
import type { NewEvt } from "@eventsourced/core";
import { MAX_EVTS_PER_PERSIST } from "@eventsourced/evtlog-nats";
import { describe, expect, it } from "vitest";
import { peekBatchRange } from "../src/envelope.js";
import { decodeEvtBatch } from "../src/envelope-decode.js";
import { encodeEvtBatch } from "../src/envelope-encode.js";
import { EvtBatch } from "../src/generated/eventsourced/nats/v1/envelope.js";
import { resumePoint, toPosition } from "../src/position.js";

describe("the message envelope", () => {
  it("round-trips bytes, content type, metadata and the recording time, numbering from the first seqNo", () => {
    const body = encodeEvtBatch(
      7,
      [
        { bytes: new Uint8Array([1, 2]), contentType: "application/json" },
        {
          bytes: new Uint8Array([]),
          contentType: "",
          metadata: { correlationId: "c", causationId: "k", headers: { a: "1" } },
        },
        { bytes: new Uint8Array([255]) },
      ],
      1_700_000_000_123,
    );
    const { firstSeqNo, count, records } = decodeEvtBatch(body);
    expect([firstSeqNo, count]).toEqual([7, 3]);
    expect(records.map((r) => r.seqNo)).toEqual([7, 8, 9]);
    expect(records.map((r) => Array.from(r.bytes))).toEqual([[1, 2], [], [255]]);
    expect(records.map((r) => r.contentType)).toEqual(["application/json", "", undefined]);
    expect(records[1]!.metadata).toEqual({ correlationId: "c", causationId: "k", headers: { a: "1" } });
    expect(records[0]!.metadata).toBeUndefined();
    expect(records[2]!.recordedAt.getTime()).toBe(1_700_000_000_123);
  });

  it("decodes exactly what the generated decoder reads, field by field", () => {
    const body = encodeEvtBatch(
      41,
      [
        { bytes: new Uint8Array([9, 8, 7]), contentType: "a/b" },
        { bytes: new Uint8Array(), metadata: { headers: { x: "1", ü: "", "": "empty key" } } },
        { bytes: new Uint8Array(300).fill(3), metadata: { correlationId: "", causationId: "k" } },
      ],
      2 ** 45 + 17,
    );
    const generated = EvtBatch.decode(body);
    const decoded = decodeEvtBatch(body);
    expect([decoded.firstSeqNo, decoded.count]).toEqual([generated.firstSeqNo, generated.count]);
    expect(decoded.records).toHaveLength(generated.evts.length);
    for (const [i, evt] of generated.evts.entries()) {
      const record = decoded.records[i]!;
      expect(record.seqNo).toBe(41 + i);
      expect(Array.from(record.bytes)).toEqual(Array.from(evt.bytes));
      expect(record.contentType).toBe(evt.contentType);
      expect(record.recordedAt.getTime()).toBe(evt.recordedAtMs);
      expect(record.metadata?.correlationId).toBe(evt.correlationId);
      expect(record.metadata?.causationId).toBe(evt.causationId);
      expect(record.metadata?.headers ?? {}).toEqual(evt.headers);
    }
  });

  it("encodes exactly the bytes the generated encoder writes", () => {
    const cases: [number, NewEvt[], number][] = [
      [1, [{ bytes: new Uint8Array([1]) }], 0],
      [
        2 ** 40 + 5,
        [{ bytes: new Uint8Array(200).fill(1), contentType: "application/json" }],
        1_700_000_000_123,
      ],
      [
        300,
        [
          { bytes: new Uint8Array(), contentType: "" },
          { bytes: new Uint8Array([0, 255]), metadata: { correlationId: "ç-1", causationId: "" } },
          {
            bytes: new Uint8Array(20_000).fill(9),
            metadata: { headers: { a: "1", "": "v", k: "", 日本: "🎉" } },
          },
        ],
        -86_400_000,
      ],
    ];
    for (const [firstSeqNo, evts, recordedAtMs] of cases) {
      const generated = EvtBatch.encode({
        firstSeqNo,
        count: evts.length,
        evts: evts.map((evt) => ({
          bytes: evt.bytes,
          contentType: evt.contentType,
          correlationId: evt.metadata?.correlationId,
          causationId: evt.metadata?.causationId,
          headers: { ...evt.metadata?.headers },
          recordedAtMs,
        })),
      }).finish();
      expect(Array.from(encodeEvtBatch(firstSeqNo, evts, recordedAtMs))).toEqual(Array.from(generated));
      expect(decodeEvtBatch(generated).records.map((r) => r.recordedAt.getTime())).toEqual(
        evts.map(() => recordedAtMs),
      );
    }
  });

  it("skips fields it does not know, so additive changes to v1 stay readable", () => {
    const body = encodeEvtBatch(1, [{ bytes: new Uint8Array([1]) }], 5);
    const extra = new BinaryWriter()
      .uint32((15 << 3) | 2)
      .string("from the future")
      .uint32(16 << 3)
      .uint64(7)
      .finish();
    const withExtra = new Uint8Array([...body, ...extra]);
    expect(decodeEvtBatch(withExtra).records.map((r) => Array.from(r.bytes))).toEqual([[1]]);
  });

  it("fails on bytes that are not an envelope", () => {
    expect(() => decodeEvtBatch(new Uint8Array([0x0a, 0xff, 0xff, 0xff]))).toThrow();
    expect(() => decodeEvtBatch(new Uint8Array([]))).toThrow(/inconsistent/);
  });

  it("lets a reader see a message's seqNo range from its first bytes, without decoding the events", () => {
    const evts = [{ bytes: new Uint8Array(1_000) }, { bytes: new Uint8Array(1) }];
    expect(peekBatchRange(encodeEvtBatch(1, evts, 0))).toEqual({ firstSeqNo: 1, count: 2 });
    expect(peekBatchRange(encodeEvtBatch(300, evts, 0))).toEqual({ firstSeqNo: 300, count: 2 });
    const big = 2 ** 40 + 3;
    expect(peekBatchRange(encodeEvtBatch(big, evts, 0))).toEqual({ firstSeqNo: big, count: 2 });
    expect(peekBatchRange(new Uint8Array([0x1a, 0x00]))).toBeUndefined();
    expect(peekBatchRange(new Uint8Array([0x08, 0xff]))).toBeUndefined();
  });
});

describe("by-type positions", () => {
  it("are unique and increasing per event across and within messages", () => {
    const positions = [
      toPosition(1, 0),
      toPosition(1, 1),
      toPosition(2, 0),
      toPosition(2, MAX_EVTS_PER_PERSIST - 1),
    ];
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(toPosition(3, 0)).toBeGreaterThan(toPosition(2, MAX_EVTS_PER_PERSIST - 1));
  });

  it("resume right after the given event", () => {
    expect(resumePoint(0)).toEqual({ streamSeq: 1, index: 0 });
    expect(resumePoint(toPosition(5, 0))).toEqual({ streamSeq: 5, index: 1 });
    expect(resumePoint(toPosition(5, 3))).toEqual({ streamSeq: 5, index: 4 });
    expect(() => resumePoint(-1)).toThrow(/invalid position/);
  });

  it("stay exact for stream sequences up to 2^37", () => {
    expect(Number.isSafeInteger(toPosition(2 ** 37 - 1, MAX_EVTS_PER_PERSIST - 1))).toBe(true);
  });
});
