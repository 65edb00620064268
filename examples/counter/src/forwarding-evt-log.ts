import {
  type EvtLog,
  type EvtLogBulkReads,
  type EvtRange,
  type EvtRecord,
  type EvtsByIdOptions,
  type EvtsByTypeOptions,
  evtsByIdsOf,
  type IdEvtRecord,
  type NewEvt,
  type Persisted,
  type TypedEvtRecord,
} from "@eventsourced/core";

/**
 * An EvtLog that passes everything to `inner`, bulk reads included (its `evtsById` one entity after the
 * other when it has none): the base of a wrapper that changes one path (see `CountingEvtLog`).
 */
export class ForwardingEvtLog implements EvtLog, EvtLogBulkReads {
  readonly #inner: EvtLog;

  constructor(inner: EvtLog) {
    this.#inner = inner;
  }

  persist(type: string, id: string, expectedLastSeqNo: number, evts: readonly NewEvt[]): Promise<Persisted> {
    return this.#inner.persist(type, id, expectedLastSeqNo, evts);
  }

  lastSeqNo(type: string, id: string): Promise<number> {
    return this.#inner.lastSeqNo(type, id);
  }

  evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    return this.#inner.evtsById(type, id, options);
  }

  evtsByIds(
    type: string,
    ranges: readonly EvtRange[],
    options?: { readonly signal?: AbortSignal | undefined },
  ): AsyncIterable<IdEvtRecord> {
    return evtsByIdsOf(this.#inner, type, ranges, options?.signal);
  }

  evtsByType(type: string, options?: EvtsByTypeOptions): AsyncIterable<TypedEvtRecord> {
    return this.#inner.evtsByType(type, options);
  }
}
