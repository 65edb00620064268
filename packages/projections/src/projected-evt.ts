import { DecodeError, type EvtMetadata, type TypedEvtRecord } from "@eventsourced/core";

/** An event as a projection handler sees it: decoded with the entity's binarizer, with where it is in the log. */
export interface ProjectedEvt<E> {
  /** The entity type. */
  readonly type: string;
  /** The entity id. */
  readonly id: string;
  /** Per-entity sequence number. */
  readonly seqNo: number;
  /** Global position in the log: the projection's checkpoint is the position of the last event it applied. */
  readonly position: number;
  /** When the log recorded the event (the log's clock). */
  readonly recordedAt: Date;
  readonly metadata?: EvtMetadata | undefined;
  /** The stored content type (version marker) the event was decoded from. */
  readonly contentType?: string | undefined;
  /** The decoded event. */
  readonly evt: E;
  /** The stored bytes it was decoded from (kept with a dead letter, so it can be re-driven). */
  readonly bytes: Uint8Array;
}

/** What a projection needs of the entity's binarizer (a full `Binarizer` fits). */
export interface EvtDecoder<E> {
  /** Decodes one stored event; throwing makes the record a poison event (dead-lettered, skipped or fatal). */
  evtFromBytes(bytes: Uint8Array, contentType?: string): E;
}

/** A record that could not become a {@link ProjectedEvt}: a poison event known before any handler ran. */
export interface Undecodable {
  readonly record: TypedEvtRecord;
  readonly error: Error;
}

/** Decodes one record, or says why it cannot be (the log's envelope or the binarizer failed). */
export function decodeRecord<E>(
  record: TypedEvtRecord,
  decoder: EvtDecoder<E>,
): ProjectedEvt<E> | Undecodable {
  if (record.undecodable !== undefined) return { record, error: record.undecodable };
  let evt: E;
  try {
    evt = decoder.evtFromBytes(record.bytes, record.contentType);
  } catch (cause) {
    return { record, error: new DecodeError("event", record.type, record.id, record.seqNo, { cause }) };
  }
  return {
    type: record.type,
    id: record.id,
    seqNo: record.seqNo,
    position: record.position,
    recordedAt: record.recordedAt,
    metadata: record.metadata,
    contentType: record.contentType,
    evt,
    bytes: record.bytes,
  };
}

/** True for the failure branch of {@link decodeRecord}. */
export function isUndecodable<E>(value: ProjectedEvt<E> | Undecodable): value is Undecodable {
  return "record" in value;
}
