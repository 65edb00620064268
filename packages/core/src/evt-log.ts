/**
 * The EvtLog contract. Adapters (in-memory, PostgreSQL, NATS JetStream) implement it and prove it with
 * `describeEvtLogContract` from `@eventsourced/core/testing/vitest`. This file imports no driver.
 */
import type { EventSourcedError } from "./errors/index.js";

/** Optional metadata carried with each event. */
export interface EvtMetadata {
  /** Id that ties together everything caused by one external request. */
  readonly correlationId?: string | undefined;
  /** Id of the message (command or event) that caused this event. */
  readonly causationId?: string | undefined;
  /** Free-form string headers. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** An event to be persisted: its encoded bytes plus optional marker and metadata. */
export interface NewEvt {
  readonly bytes: Uint8Array;
  /**
   * Content type or version marker of `bytes` (e.g. `"application/json"` or
   * `"application/x-protobuf; counter.v1.CounterEvt"`), so old events can be recognised and upcast.
   */
  readonly contentType?: string | undefined;
  readonly metadata?: EvtMetadata | undefined;
}

/** An event as stored in the log for one entity. */
export interface EvtRecord extends NewEvt {
  /** Per-entity sequence number, contiguous from 1. */
  readonly seqNo: number;
  /** When the log recorded the event. */
  readonly recordedAt: Date;
  /** The event's global position (as `evtsByType` reports it), when the log returns it by id. */
  readonly position?: number | undefined;
}

/** An event read by entity type: carries the entity id and its global, gap-free position. */
export interface TypedEvtRecord extends EvtRecord {
  readonly type: string;
  /** The entity's id. */
  readonly id: string;
  /**
   * Position in the log's global order. Strictly increasing in delivery order; resume a reader with
   * `after: lastProcessedPosition`.
   */
  readonly position: number;
  /**
   * Set only when the reader asked for `undecodable: "yield"` and the log could not decode the stored record
   * (e.g. a foreign message on an entity's NATS subject): `bytes` then hold the raw stored bytes, `id` and
   * `seqNo` are best effort (`seqNo` 0 when unknown), and this error says why. The record's position is
   * real, so a reader can resume after it.
   */
  readonly undecodable?: EventSourcedError | undefined;
}

/** The last event of one entity type: see {@link EvtLog.headOfType}. */
export interface TypeHead {
  /** Position of the type's last event. */
  readonly position: number;
  /** When the log recorded it (the log's clock). */
  readonly recordedAt: Date;
}

/** Where a persist's events ended up: the entity's new last seqNo and the log position of its last event. */
export interface Persisted {
  /** The entity's last seqNo after the persist. */
  readonly seqNo: number;
  /** The global position of the persist's last event (what `evtsByType` reports for it). */
  readonly position: number;
}

/** Options for {@link EvtLog.evtsById}. */
export interface EvtsByIdOptions {
  /** First seqNo to return (inclusive): an integer >= 1; anything else is an `InvalidArgumentError`. */
  readonly from: number;
  /** Last seqNo to return (inclusive): an integer; unbounded when omitted. Below `from`, nothing is returned. */
  readonly to?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Options for {@link EvtLog.evtsByType}. */
export interface EvtsByTypeOptions {
  /**
   * Return events with a position greater than this one: an integer >= 0; 0 (the default) starts at the
   * beginning.
   */
  readonly after?: number | undefined;
  /** Keep tailing: after the stored events, wait for new ones until `signal` aborts. */
  readonly live?: boolean | undefined;
  /** Ends the iteration (a live one, too) without an error. */
  readonly signal?: AbortSignal | undefined;
  /**
   * What to do with a stored record the log cannot decode: `"throw"` (the default) ends the iteration with
   * the error; `"yield"` hands it over as a record carrying the error in `undecodable`, and goes on. Readers
   * that decode events themselves (projections) use `"yield"` to treat it as one poison event instead of a
   * wall that stops the whole type.
   */
  readonly undecodable?: "throw" | "yield" | undefined;
}

/**
 * An append-only log of events, identified per entity by `(type, id)`.
 *
 * Type names match {@link TYPE_NAME_PATTERN}; ids follow the rules of `validateTypeAndId` (non-empty,
 * well-formed Unicode without NUL, at most {@link MAX_ID_BYTES} bytes of UTF-8). Every adapter checks both
 * on every call and rejects a violation with `InvalidArgumentError`; it encodes ids so that no id can
 * address another entity.
 */
export interface EvtLog {
  /**
   * Appends `evts` atomically with seqNos `expectedLastSeqNo + 1 .. expectedLastSeqNo + evts.length` and
   * resolves to the new last seqNo and the position of the last event. Rejects with `SeqNoConflictError`
   * (writing nothing) when the entity's last seqNo is not `expectedLastSeqNo` (0 for an entity with no
   * events), and with `PersistError` on a technical failure (see its `outcomeUnknown`; a log that is
   * closed reports `outcomeUnknown: false`, as nothing was sent). Invalid arguments (type, id, an
   * `expectedLastSeqNo` that is not an integer >= 0, no events, event bytes that are not a `Uint8Array`)
   * are refused with `InvalidArgumentError` before anything is sent.
   */
  persist(type: string, id: string, expectedLastSeqNo: number, evts: readonly NewEvt[]): Promise<Persisted>;

  /** The last seqNo of the entity, 0 when it has no events. */
  lastSeqNo(type: string, id: string): Promise<number>;

  /**
   * The entity's events in seqNo order, streamed with backpressure, bounded by `to` when given.
   *
   * Invalid arguments (type, id, `from`, `to`) are reported when iteration starts, as the rejection of the
   * first `next()`, never by the call itself, and before the log's server is asked anything; read failures
   * surface the same way, as `ReadError`.
   */
  evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord>;

  /**
   * Every event of `type` in the log's global order, without gaps: a reader never skips an event whose
   * transaction committed after that of a later-positioned one.
   *
   * Like {@link EvtLog.evtsById}, invalid arguments (type, `after`) are reported by the first `next()`,
   * never by the call itself.
   */
  evtsByType(type: string, options?: EvtsByTypeOptions): AsyncIterable<TypedEvtRecord>;

  /**
   * The position and time of the last event of `type`, `undefined` when it has none. Optional: projections
   * use it for their lag and `whenCaughtUp()`; every adapter of this repository implements it.
   */
  headOfType?(type: string): Promise<TypeHead | undefined>;
}

/** Entity type names: a letter, then letters, digits, `_` or `-`, at most 100 characters. */
export const TYPE_NAME_PATTERN: RegExp = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;

/**
 * The longest entity id, in bytes of UTF-8. Chosen so that every adapter can index it: a PostgreSQL
 * B-tree entry holds at most about 2,700 bytes (type, id and seqNo together, incompressible worst case),
 * and the NATS subject token of an id, at most three characters per byte, stays well under the server's
 * control-line limit.
 */
export const MAX_ID_BYTES = 512;
