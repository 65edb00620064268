import type { EvtRecord } from "@eventsourced/core";

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
