import { BinaryReader } from "@bufbuild/protobuf/wire";
import type { EvtMetadata, EvtRecord } from "@eventsourced/core";
import type { DecodedBatch } from "./envelope.js";

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

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
