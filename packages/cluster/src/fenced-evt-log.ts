import {
  ErrorCode,
  type EvtLog,
  type EvtLogBulkReads,
  type EvtLogRetention,
  type EvtRange,
  type EvtRecord,
  type EvtsByIdOptions,
  type EvtsByTypeOptions,
  type EvtsDeleted,
  type IdEvtRecord,
  isEventSourcedError,
  type NewEvt,
  OwnershipLostError,
  type Persisted,
  supportsBulkReads,
  supportsRetention,
  type TypedEvtRecord,
  type TypeHead,
} from "@eventsourced/core";
import type { Lease } from "@eventsourced/leases";

/**
 * L1 fencing: the log of the entities of one shard tenure. Every write first asks the tenure's lease
 * (its local monotonic deadline) and refuses with `OwnershipLostError` once it is no longer valid; a
 * write that conflicted (`SeqNoConflictError`) while the lease ended is reported as `OwnershipLostError`
 * too, so the entity never takes the conflict -> re-run path on a shard it lost (a stale owner re-running
 * on fresh state would succeed). A conflict under a valid lease is an earlier owner's late write: the
 * entity re-runs on the fresh state, as it should. Reads pass through, and so do the wrapped log's optional
 * capabilities: `headOfType`, bulk reads (`evtsByIds`, so `Entity.spawnMany` and a registry's `prefetch`
 * recover a tenure's entities in bulk) and retention (its deletes fenced like writes), each present only
 * when the wrapped log has it.
 */
export class FencedEvtLog implements EvtLog {
  readonly #log: EvtLog;
  readonly #lease: Pick<Lease, "key" | "epoch" | "isValid">;
  readonly #what: string;

  constructor(log: EvtLog, lease: Pick<Lease, "key" | "epoch" | "isValid">, shard: number) {
    this.#log = log;
    this.#lease = lease;
    this.#what = `shard ${shard} (lease ${lease.key}, epoch ${lease.epoch})`;
    if (supportsRetention(log)) {
      const retention = log as EvtLog & EvtLogRetention;
      const self = this as unknown as EvtLogRetention;
      self.deleteEvts = (type, id, toSeqNo) =>
        this.#fenced(type, id, () => retention.deleteEvts(type, id, toSeqNo)) as Promise<EvtsDeleted>;
      self.deletedTo = (type, id) => retention.deletedTo(type, id);
      self.resetEntity = (type, id, expected) =>
        this.#fenced(type, id, () => retention.resetEntity(type, id, expected));
    }
    if (log.headOfType !== undefined) {
      this.headOfType = (type: string): Promise<TypeHead | undefined> => log.headOfType!(type);
    }
    if (supportsBulkReads(log)) {
      const bulk: EvtLogBulkReads = log;
      this.evtsByIds = (type, ranges, options) => bulk.evtsByIds(type, ranges, options);
    }
  }

  /** See `EvtLog.headOfType`; present when the wrapped log has it. */
  declare headOfType?: (type: string) => Promise<TypeHead | undefined>;

  /** See `EvtLogBulkReads.evtsByIds`; present when the wrapped log has it (reads are not fenced). */
  declare evtsByIds?: (
    type: string,
    ranges: readonly EvtRange[],
    options?: { readonly signal?: AbortSignal | undefined },
  ) => AsyncIterable<IdEvtRecord>;

  persist(type: string, id: string, expectedLastSeqNo: number, evts: readonly NewEvt[]): Promise<Persisted> {
    return this.#fenced(type, id, () => this.#log.persist(type, id, expectedLastSeqNo, evts));
  }

  lastSeqNo(type: string, id: string): Promise<number> {
    return this.#log.lastSeqNo(type, id);
  }

  evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    return this.#log.evtsById(type, id, options);
  }

  evtsByType(type: string, options?: EvtsByTypeOptions): AsyncIterable<TypedEvtRecord> {
    return this.#log.evtsByType(type, options);
  }

  #fenced<T>(type: string, id: string, write: () => Promise<T>): Promise<T> {
    if (!this.#lease.isValid()) {
      return Promise.reject(
        new OwnershipLostError(type, id, `${this.#what} is no longer held; nothing was written`),
      );
    }
    return write().then(undefined, (error: unknown) => {
      if (isEventSourcedError(error, ErrorCode.SeqNoConflict) && !this.#lease.isValid()) {
        throw new OwnershipLostError(
          type,
          id,
          `${this.#what} was lost during the write; nothing was written`,
          {
            cause: error,
          },
        );
      }
      throw error;
    });
  }
}
