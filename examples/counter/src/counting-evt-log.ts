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
 * An EvtLog that passes everything through and counts the events read by id, which is what entity
 * recovery replays: the run reports events replayed per second from it.
 */
export class CountingEvtLog implements EvtLog, EvtLogBulkReads {
  readonly #inner: EvtLog;
  #evtsRead = 0;

  constructor(inner: EvtLog) {
    this.#inner = inner;
  }

  /** Events yielded by {@link evtsById} so far. */
  get evtsRead(): number {
    return this.#evtsRead;
  }

  persist(type: string, id: string, expectedLastSeqNo: number, evts: readonly NewEvt[]): Promise<Persisted> {
    return this.#inner.persist(type, id, expectedLastSeqNo, evts);
  }

  lastSeqNo(type: string, id: string): Promise<number> {
    return this.#inner.lastSeqNo(type, id);
  }

  async *evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    for await (const record of this.#inner.evtsById(type, id, options)) {
      this.#evtsRead++;
      yield record;
    }
  }

  /** The inner log's bulk read (or its `evtsById` one entity after the other), counted like `evtsById`. */
  async *evtsByIds(
    type: string,
    ranges: readonly EvtRange[],
    options?: { readonly signal?: AbortSignal | undefined },
  ): AsyncIterable<IdEvtRecord> {
    for await (const record of evtsByIdsOf(this.#inner, type, ranges, options?.signal)) {
      this.#evtsRead++;
      yield record;
    }
  }

  evtsByType(type: string, options?: EvtsByTypeOptions): AsyncIterable<TypedEvtRecord> {
    return this.#inner.evtsByType(type, options);
  }
}
