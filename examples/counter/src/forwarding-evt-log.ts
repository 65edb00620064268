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
 * An EvtLog that reads from `reads`, bulk reads included (its `evtsById` one entity after the other when it
 * has none), and persists to `writes` (by default the same log).
 *
 * A counter run on PostgreSQL writes through one: persists go through the log's view fenced by the run's
 * lease tenure (checked inside the batch statement, ADR 0132), so that once the tenure is over they reject
 * with `OwnershipLostError` and write nothing, while reads go to the log itself, since fencing on PostgreSQL
 * checks writes only and the fenced view has no bulk read (a run recovers its counters in bulk, at its
 * start and for its verification).
 */
export class ForwardingEvtLog implements EvtLog, EvtLogBulkReads {
  readonly #reads: EvtLog;
  readonly #writes: EvtLog;

  constructor(reads: EvtLog, writes: EvtLog = reads) {
    this.#reads = reads;
    this.#writes = writes;
  }

  persist(type: string, id: string, expectedLastSeqNo: number, evts: readonly NewEvt[]): Promise<Persisted> {
    return this.#writes.persist(type, id, expectedLastSeqNo, evts);
  }

  lastSeqNo(type: string, id: string): Promise<number> {
    return this.#reads.lastSeqNo(type, id);
  }

  evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    return this.#reads.evtsById(type, id, options);
  }

  evtsByIds(
    type: string,
    ranges: readonly EvtRange[],
    options?: { readonly signal?: AbortSignal | undefined },
  ): AsyncIterable<IdEvtRecord> {
    return evtsByIdsOf(this.#reads, type, ranges, options?.signal);
  }

  evtsByType(type: string, options?: EvtsByTypeOptions): AsyncIterable<TypedEvtRecord> {
    return this.#reads.evtsByType(type, options);
  }
}
