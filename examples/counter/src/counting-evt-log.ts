import type {
  EvtLog,
  EvtRecord,
  EvtsByIdOptions,
  EvtsByTypeOptions,
  NewEvt,
  Persisted,
  TypedEvtRecord,
} from "@eventsourced/core";

/**
 * An EvtLog that passes everything through and counts the events read by id, which is what entity
 * recovery replays: the run reports events replayed per second from it.
 */
export class CountingEvtLog implements EvtLog {
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

  evtsByType(type: string, options?: EvtsByTypeOptions): AsyncIterable<TypedEvtRecord> {
    return this.#inner.evtsByType(type, options);
  }
}
