import type { EvtMetadata, EvtRecord, NewEvt } from "@eventsourced/core";
import { type Evt, EvtBatch } from "./generated/eventsourced/nats/v1/envelope.js";

/** Message headers written with every persist. */
export const Header = {
  /** seqNo of the first event in the message. */
  FirstSeq: "Es-First-Seq",
  /** Number of events in the message (first + count - 1 is the entity's last seqNo after it). */
  Count: "Es-Count",
  /** Body format, so a future envelope version can be told apart without guessing. */
  Envelope: "Es-Envelope",
} as const;

/** The value of {@link Header.Envelope} for bodies encoded as `eventsourced.nats.v1.EvtBatch`. */
export const ENVELOPE_V1 = "eventsourced.nats.v1.EvtBatch";

/** Encodes all events of one persist as the body of one message. */
export function encodeEvtBatch(evts: readonly NewEvt[], recordedAtMs: number): Uint8Array {
  return EvtBatch.encode({
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

/** Decodes a message body into records numbered from `firstSeqNo`. Throws on malformed bytes. */
export function decodeEvtBatch(body: Uint8Array, firstSeqNo: number): EvtRecord[] {
  return EvtBatch.decode(body).evts.map((evt, i) => toRecord(evt, firstSeqNo + i));
}

function toRecord(evt: Evt, seqNo: number): EvtRecord {
  const metadata = toMetadata(evt);
  return {
    seqNo,
    // A copy, so that a retained event does not pin the connection's whole receive buffer.
    bytes: evt.bytes.slice(),
    recordedAt: new Date(evt.recordedAtMs),
    ...(evt.contentType === undefined ? {} : { contentType: evt.contentType }),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

function toMetadata(evt: Evt): EvtMetadata | undefined {
  const hasHeaders = Object.keys(evt.headers).length > 0;
  if (evt.correlationId === undefined && evt.causationId === undefined && !hasHeaders) return undefined;
  return {
    ...(evt.correlationId === undefined ? {} : { correlationId: evt.correlationId }),
    ...(evt.causationId === undefined ? {} : { causationId: evt.causationId }),
    ...(hasHeaders ? { headers: evt.headers } : {}),
  };
}
