import type {
  EvtLog,
  EvtLogBulkReads,
  EvtLogRetention,
  EvtRange,
  EvtRecord,
  EvtsByIdOptions,
  EvtsByTypeOptions,
  EvtsDeleted,
  IdEvtRecord,
  NewEvt,
  Persisted,
  TypedEvtRecord,
  TypeHead,
} from "@eventsourced/core";
import type { PersistFence } from "./persist-fence.js";
import type { PersistOptions } from "./postgres-evt-log-options.js";

/** What a fenced view needs of the log under it (the log's persist with a fence option). */
export interface FenceableLog extends EvtLog, EvtLogRetention, EvtLogBulkReads {
  persist(
    type: string,
    id: string,
    expectedLastSeqNo: number,
    evts: readonly NewEvt[],
    options?: PersistOptions,
  ): Promise<Persisted>;
  headOfType(type: string): Promise<TypeHead | undefined>;
}

/**
 * A `PostgresEvtLog` seen through one lease tenure, made by `PostgresEvtLog.fenced`: persists carry the
 * fence (strict fencing, L2), reads go to the log unchanged. Cheap to create; make one per tenure (for a
 * cluster: per shard and epoch) and drop it when the tenure ends.
 */
export class FencedEvtLog implements EvtLog, EvtLogRetention, EvtLogBulkReads {
  /** The tenure every persist is written under. */
  readonly fence: PersistFence;
  readonly #log: FenceableLog;

  /** Use `PostgresEvtLog.fenced`, which validates the fence. */
  constructor(log: FenceableLog, fence: PersistFence) {
    this.#log = log;
    this.fence = Object.freeze(fence);
  }

  /**
   * See {@link EvtLog.persist}; additionally rejects with `OwnershipLostError`, writing nothing, once the
   * tenure is no longer live (expired, released or taken over under a newer epoch).
   */
  persist(type: string, id: string, expectedLastSeqNo: number, evts: readonly NewEvt[]): Promise<Persisted> {
    return this.#log.persist(type, id, expectedLastSeqNo, evts, { fence: this.fence });
  }

  /** See {@link EvtLog.lastSeqNo}. */
  lastSeqNo(type: string, id: string): Promise<number> {
    return this.#log.lastSeqNo(type, id);
  }

  /** See {@link EvtLog.evtsById}. */
  evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    return this.#log.evtsById(type, id, options);
  }

  /** See {@link EvtLogBulkReads.evtsByIds}: bulk recovery (`Entity.spawnMany`) through the view reads in bulk. */
  evtsByIds(
    type: string,
    ranges: readonly EvtRange[],
    options?: { readonly signal?: AbortSignal | undefined },
  ): AsyncIterable<IdEvtRecord> {
    return this.#log.evtsByIds(type, ranges, options);
  }

  /** See {@link EvtLog.evtsByType}. */
  evtsByType(type: string, options?: EvtsByTypeOptions): AsyncIterable<TypedEvtRecord> {
    return this.#log.evtsByType(type, options);
  }

  /** See {@link EvtLog.headOfType}. */
  headOfType(type: string): Promise<TypeHead | undefined> {
    return this.#log.headOfType(type);
  }

  /** See {@link EvtLogRetention.deleteEvts}: deletes no event of a later tenure's, so not fenced. */
  deleteEvts(type: string, id: string, toSeqNo: number): Promise<EvtsDeleted> {
    return this.#log.deleteEvts(type, id, toSeqNo);
  }

  /** See {@link EvtLogRetention.deletedTo}. */
  deletedTo(type: string, id: string): Promise<number> {
    return this.#log.deletedTo(type, id);
  }

  /** See {@link EvtLogRetention.resetEntity}: checked against the expected last seqNo, as always. */
  resetEntity(type: string, id: string, expectedLastSeqNo: number): Promise<void> {
    return this.#log.resetEntity(type, id, expectedLastSeqNo);
  }
}
