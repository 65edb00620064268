import { BinaryReader } from "@bufbuild/protobuf/wire";
import { type EvtMetadata, type EvtRecord, InvalidArgumentError, type NewEvt } from "@eventsourced/core";

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
  /**
   * Marks an epoch marker: a message without events (empty body) written by `NatsEvtLog.fence`; its value
   * is the entity's last seqNo at the marker. Readers skip markers.
   */
  Marker: "Es-Marker",
  /** The lease epoch a marker or a fenced persist was written under. */
  Epoch: "Es-Epoch",
  /** The owner (process) that wrote a marker or a fenced persist, for audit. */
  Owner: "Es-Owner",
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

/**
 * Encodes all events of one persist, numbered from `firstSeqNo`, as the body of one message.
 *
 * Writes the same bytes as the generated `EvtBatch.encode` (`envelope.test.ts` compares them), sized first
 * and written into one buffer: the generated writer's forks and per-event objects cost several microseconds
 * per persist, which adds up with thousands of entities writing.
 */
export function encodeEvtBatch(
  firstSeqNo: number,
  evts: readonly NewEvt[],
  recordedAtMs: number,
): Uint8Array {
  const parts = evts.map((evt, index) => {
    // A cast-away type must not be encoded as something else (a string would become zeros).
    if (!(evt?.bytes instanceof Uint8Array)) {
      throw new InvalidArgumentError(`event ${index}: bytes must be a Uint8Array`);
    }
    return evtParts(evt, recordedAtMs);
  });
  let size = 1 + varintSize(firstSeqNo) + 1 + varintSize(evts.length);
  for (const part of parts) size += 1 + varintSize(part.size) + part.size;
  const out = new Uint8Array(size);
  let pos = 0;
  out[pos++] = 0x08;
  pos = writeVarint(out, pos, firstSeqNo);
  out[pos++] = 0x10;
  pos = writeVarint(out, pos, evts.length);
  for (const part of parts) {
    out[pos++] = 0x1a;
    pos = writeVarint(out, pos, part.size);
    pos = writeEvt(out, pos, part);
  }
  return out;
}

/** One event's fields as bytes, and the size of its encoding. */
interface EvtParts {
  readonly bytes: Uint8Array;
  readonly contentType: Uint8Array | undefined;
  readonly correlationId: Uint8Array | undefined;
  readonly causationId: Uint8Array | undefined;
  readonly headers: readonly (readonly [Uint8Array, Uint8Array])[];
  readonly recordedAtMs: number;
  readonly size: number;
}

function evtParts(evt: NewEvt, recordedAtMs: number): EvtParts {
  const contentType = evt.contentType === undefined ? undefined : utf8(evt.contentType);
  const correlationId =
    evt.metadata?.correlationId === undefined ? undefined : utf8(evt.metadata.correlationId);
  const causationId = evt.metadata?.causationId === undefined ? undefined : utf8(evt.metadata.causationId);
  const headers = Object.entries(evt.metadata?.headers ?? {}).map(
    ([key, value]) => [utf8(key), utf8(value)] as const,
  );
  let size = evt.bytes.length === 0 ? 0 : fieldSize(evt.bytes.length);
  if (contentType !== undefined) size += fieldSize(contentType.length);
  if (correlationId !== undefined) size += fieldSize(correlationId.length);
  if (causationId !== undefined) size += fieldSize(causationId.length);
  for (const [key, value] of headers) size += fieldSize(entrySize(key, value));
  // proto3 omits a zero int64; a negative one (before 1970) takes the full ten bytes.
  if (recordedAtMs !== 0) size += 1 + (recordedAtMs < 0 ? 10 : varintSize(recordedAtMs));
  return { bytes: evt.bytes, contentType, correlationId, causationId, headers, recordedAtMs, size };
}

function writeEvt(out: Uint8Array, start: number, part: EvtParts): number {
  let pos = start;
  if (part.bytes.length !== 0) pos = writeBytes(out, pos, 0x0a, part.bytes);
  if (part.contentType !== undefined) pos = writeBytes(out, pos, 0x12, part.contentType);
  if (part.correlationId !== undefined) pos = writeBytes(out, pos, 0x1a, part.correlationId);
  if (part.causationId !== undefined) pos = writeBytes(out, pos, 0x22, part.causationId);
  for (const [key, value] of part.headers) {
    out[pos++] = 0x2a;
    pos = writeVarint(out, pos, entrySize(key, value));
    // Map entries omit an empty key or value, like every proto3 string.
    if (key.length !== 0) pos = writeBytes(out, pos, 0x0a, key);
    if (value.length !== 0) pos = writeBytes(out, pos, 0x12, value);
  }
  if (part.recordedAtMs !== 0) {
    out[pos++] = 0x30;
    pos =
      part.recordedAtMs < 0
        ? writeNegativeVarint(out, pos, part.recordedAtMs)
        : writeVarint(out, pos, part.recordedAtMs);
  }
  return pos;
}

function entrySize(key: Uint8Array, value: Uint8Array): number {
  return (key.length === 0 ? 0 : fieldSize(key.length)) + (value.length === 0 ? 0 : fieldSize(value.length));
}

/** Tag (one byte for our field numbers) + length + content of a length-delimited field. */
function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

function writeBytes(out: Uint8Array, start: number, tag: number, bytes: Uint8Array): number {
  out[start] = tag;
  const pos = writeVarint(out, start + 1, bytes.length);
  out.set(bytes, pos);
  return pos + bytes.length;
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 128; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** A non-negative safe integer as a varint (arithmetic, not bit operations, past 32 bits). */
function writeVarint(out: Uint8Array, start: number, value: number): number {
  let pos = start;
  let rest = value;
  while (rest >= 128) {
    out[pos++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  out[pos++] = rest;
  return pos;
}

/** A negative int64 as protobuf writes it: its 64-bit two's complement, ten bytes. */
function writeNegativeVarint(out: Uint8Array, start: number, value: number): number {
  let rest = BigInt.asUintN(64, BigInt(value));
  let pos = start;
  for (let i = 0; i < 9; i++) {
    out[pos++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  out[pos++] = Number(rest);
  return pos;
}

let lastString: string | undefined;
let lastBytes: Uint8Array = new Uint8Array(0);

/** UTF-8 bytes of `text`; the last one is remembered, as most events repeat their content type. */
function utf8(text: string): Uint8Array {
  if (text !== lastString) {
    lastBytes = textEncoder.encode(text);
    lastString = text;
  }
  return lastBytes;
}

const textEncoder = new TextEncoder();

/**
 * Decodes a message body; throws on bytes that are not a consistent v1 envelope.
 *
 * Written against the wire format instead of calling the generated `EvtBatch.decode`: replay decodes every
 * event, and building `EvtRecord`s directly (no intermediate message objects) halves the cost per event.
 * `envelope.test.ts` checks it against the generated decoder, field by field. Unknown fields are skipped, as
 * protobuf requires, so additive v1 changes stay readable.
 */
export function decodeEvtBatch(body: Uint8Array): DecodedBatch {
  const reader = new BinaryReader(body);
  let firstSeqNo = 0;
  let count = 0;
  const records: EvtRecord[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === 0x08) firstSeqNo = Number(reader.uint64());
    else if (tag === 0x10) count = reader.uint32();
    // Events come after first_seq_no in what we write; a reordered body numbers them once both are known.
    else if (tag === 0x1a) records.push(readEvt(reader, reader.uint32(), records.length));
    else reader.skip(tag & 7, tag >>> 3);
  }
  if (firstSeqNo < 1 || count !== records.length || count < 1) {
    throw new Error(
      `inconsistent event batch: first seqNo ${firstSeqNo}, count ${count}, ${records.length} events`,
    );
  }
  for (const record of records) (record as Mutable<EvtRecord>).seqNo += firstSeqNo;
  return { firstSeqNo, count, records };
}

/** One `Evt` of `length` bytes; its seqNo is `index` until the caller adds the first seqNo. */
function readEvt(reader: BinaryReader, length: number, index: number): EvtRecord {
  const end = reader.pos + length;
  let bytes: Uint8Array = EMPTY;
  let recordedAtMs = 0;
  let contentType: string | undefined;
  let correlationId: string | undefined;
  let causationId: string | undefined;
  let headers: Record<string, string> | undefined;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case 0x0a:
        // A copy, so that a retained event does not pin the connection's whole receive buffer.
        bytes = reader.bytes().slice();
        break;
      case 0x12:
        contentType = reader.string();
        break;
      case 0x1a:
        correlationId = reader.string();
        break;
      case 0x22:
        causationId = reader.string();
        break;
      case 0x2a: {
        const [key, value] = readHeader(reader, reader.uint32());
        headers ??= {};
        headers[key] = value;
        break;
      }
      case 0x30:
        recordedAtMs = Number(reader.int64());
        break;
      default:
        reader.skip(tag & 7, tag >>> 3);
    }
  }
  // Built by assignment rather than conditional spreads: this runs once per event on every replay.
  const record: Mutable<EvtRecord> = { seqNo: index, bytes, recordedAt: new Date(recordedAtMs) };
  if (contentType !== undefined) record.contentType = contentType;
  if (correlationId !== undefined || causationId !== undefined || headers !== undefined) {
    const metadata: Mutable<EvtMetadata> = {};
    if (correlationId !== undefined) metadata.correlationId = correlationId;
    if (causationId !== undefined) metadata.causationId = causationId;
    if (headers !== undefined) metadata.headers = headers;
    record.metadata = metadata;
  }
  return record;
}

function readHeader(reader: BinaryReader, length: number): [string, string] {
  const end = reader.pos + length;
  let key = "";
  let value = "";
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 0x0a) key = reader.string();
    else if (tag === 0x12) value = reader.string();
    else reader.skip(tag & 7, tag >>> 3);
  }
  return [key, value];
}

const EMPTY = new Uint8Array(0);

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
