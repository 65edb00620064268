import type { EvtMetadata, EvtRecord, NewEvt } from "@eventsourced/core";
import { type Evt, EvtBatch } from "./generated/eventsourced/nats/v1/envelope.js";

/**
 * Message headers written with every persist (for tooling and direct gets; readers use the body, which
 * repeats both values). The body is an `eventsourced.nats.v1.EvtBatch`; a future incompatible format will be
 * marked by an `Es-Envelope` header, whose absence means v1.
 */
export const Header = {
  /** seqNo of the first event in the message. */
  FirstSeq: "Es-First-Seq",
  /** Number of events in the message (first + count - 1 is the entity's last seqNo after it). */
  Count: "Es-Count",
} as const;

/** The seqNos a message holds: `firstSeqNo .. firstSeqNo + count - 1`. */
export interface BatchRange {
  readonly firstSeqNo: number;
  readonly count: number;
}

/** A decoded message body. */
export interface DecodedBatch extends BatchRange {
  readonly records: EvtRecord[];
}

/** Encodes all events of one persist, numbered from `firstSeqNo`, as the body of one message. */
export function encodeEvtBatch(
  firstSeqNo: number,
  evts: readonly NewEvt[],
  recordedAtMs: number,
): Uint8Array {
  return EvtBatch.encode({
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
}

/** Decodes a message body; throws on bytes that are not a consistent v1 envelope. */
export function decodeEvtBatch(body: Uint8Array): DecodedBatch {
  const batch = EvtBatch.decode(body);
  if (batch.firstSeqNo < 1 || batch.count !== batch.evts.length || batch.count < 1) {
    throw new Error(
      `inconsistent event batch: first seqNo ${batch.firstSeqNo}, count ${batch.count}, ${batch.evts.length} events`,
    );
  }
  const records = batch.evts.map((evt, i) => toRecord(evt, batch.firstSeqNo + i));
  return { firstSeqNo: batch.firstSeqNo, count: batch.count, records };
}

/**
 * The range of a message from the first bytes of its body, without decoding the events: the writer puts
 * `first_seq_no` (field 1) and `count` (field 2) first. Undefined when the body does not start that way.
 */
export function peekBatchRange(body: Uint8Array): BatchRange | undefined {
  if (body[0] !== 0x08) return undefined;
  const first = readVarint(body, 1);
  if (first === undefined || body[first.next] !== 0x10) return undefined;
  const count = readVarint(body, first.next + 1);
  if (count === undefined || first.value < 1 || count.value < 1) return undefined;
  return { firstSeqNo: first.value, count: count.value };
}

function readVarint(bytes: Uint8Array, start: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  // At most 8 bytes (56 bits) are read, which covers every safe integer; longer varints are not ours.
  for (let i = start; i < bytes.length && i < start + 8; i++) {
    const byte = bytes[i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return Number.isSafeInteger(value) ? { value, next: i + 1 } : undefined;
    scale *= 128;
  }
  return undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function toRecord(evt: Evt, seqNo: number): EvtRecord {
  // Built by assignment rather than conditional spreads: this runs once per event on every replay.
  const record: Mutable<EvtRecord> = {
    seqNo,
    // A copy, so that a retained event does not pin the connection's whole receive buffer.
    bytes: evt.bytes.slice(),
    recordedAt: new Date(evt.recordedAtMs),
  };
  if (evt.contentType !== undefined) record.contentType = evt.contentType;
  const metadata = toMetadata(evt);
  if (metadata !== undefined) record.metadata = metadata;
  return record;
}

function toMetadata(evt: Evt): EvtMetadata | undefined {
  const hasHeaders = !isEmpty(evt.headers);
  if (evt.correlationId === undefined && evt.causationId === undefined && !hasHeaders) return undefined;
  const metadata: Mutable<EvtMetadata> = {};
  if (evt.correlationId !== undefined) metadata.correlationId = evt.correlationId;
  if (evt.causationId !== undefined) metadata.causationId = evt.causationId;
  if (hasHeaders) metadata.headers = evt.headers;
  return metadata;
}

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}
