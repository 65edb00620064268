import { InvalidArgumentError, type NewEvt, validateEvtMetadata } from "@eventsourced/core";

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
    if (evt.metadata !== undefined) validateEvtMetadata(evt.metadata, index);
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
