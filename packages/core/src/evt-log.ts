/**
 * The EvtLog contract. Adapters (in-memory, PostgreSQL, NATS JetStream) implement it and prove it with
 * `describeEvtLogContract` from `@eventsourced/core/testing`. This file imports no driver.
 */

/** Optional metadata carried with each event. */
export interface EvtMetadata {
  /** Id that ties together everything caused by one external request. */
  readonly correlationId?: string;
  /** Id of the message (command or event) that caused this event. */
  readonly causationId?: string;
  /** Free-form string headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** An event to be persisted: its encoded bytes plus optional marker and metadata. */
export interface NewEvt {
  readonly bytes: Uint8Array;
  /**
   * Content type or version marker of `bytes` (e.g. `"application/json"` or
   * `"application/x-protobuf; counter.v1.CounterEvt"`), so old events can be recognised and upcast.
   */
  readonly contentType?: string;
  readonly metadata?: EvtMetadata;
}

/** An event as stored in the log for one entity. */
export interface EvtRecord extends NewEvt {
  /** Per-entity sequence number, contiguous from 1. */
  readonly seqNo: number;
  /** When the log recorded the event. */
  readonly recordedAt: Date;
}

/** An event read by entity type: carries the entity id and its global, gap-free position. */
export interface TypedEvtRecord extends EvtRecord {
  readonly type: string;
  readonly id: string;
  /**
   * Position in the log's global order. Strictly increasing in delivery order; resume a reader with
   * `after: lastProcessedPosition`.
   */
  readonly position: number;
}

/** Options for {@link EvtLog.evtsById}. */
export interface EvtsByIdOptions {
  /** First seqNo to return (inclusive), >= 1. */
  readonly from: number;
  /** Last seqNo to return (inclusive); unbounded when omitted. */
  readonly to?: number;
  readonly signal?: AbortSignal;
}

/** Options for {@link EvtLog.evtsByType}. */
export interface EvtsByTypeOptions {
  /** Return events with a position greater than this one; 0 (the default) starts at the beginning. */
  readonly after?: number;
  /** Keep tailing: after the stored events, wait for new ones until `signal` aborts. */
  readonly live?: boolean;
  /** Ends the iteration (a live one, too) without an error. */
  readonly signal?: AbortSignal;
}

/**
 * An append-only log of events, identified per entity by `(type, id)`.
 *
 * Type names match {@link TYPE_NAME_PATTERN}; ids are any non-empty string (adapters encode them so
 * that no id can address another entity).
 */
export interface EvtLog {
  /**
   * Appends `evts` atomically with seqNos `expectedLastSeqNo + 1 .. expectedLastSeqNo + evts.length` and
   * resolves to the new last seqNo. Rejects with `SeqNoConflictError` (writing nothing) when the entity's
   * last seqNo is not `expectedLastSeqNo` (0 for an entity with no events), and with `PersistError` on a
   * technical failure (see its `outcomeUnknown`).
   */
  persist(type: string, id: string, expectedLastSeqNo: number, evts: readonly NewEvt[]): Promise<number>;

  /** The last seqNo of the entity, 0 when it has no events. */
  lastSeqNo(type: string, id: string): Promise<number>;

  /** The entity's events in seqNo order, streamed with backpressure, bounded by `to` when given. */
  evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord>;

  /**
   * Every event of `type` in the log's global order, without gaps: a reader never skips an event whose
   * transaction committed after that of a later-positioned one.
   */
  evtsByType(type: string, options?: EvtsByTypeOptions): AsyncIterable<TypedEvtRecord>;
}

/** Entity type names: a letter, then letters, digits, `_` or `-`, at most 100 characters. */
export const TYPE_NAME_PATTERN: RegExp = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;
