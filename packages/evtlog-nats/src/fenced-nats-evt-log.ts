import type {
  EvtLog,
  EvtLogRetention,
  EvtRecord,
  EvtsByIdOptions,
  EvtsByTypeOptions,
  EvtsDeleted,
  NewEvt,
  Persisted,
  TypedEvtRecord,
  TypeHead,
} from "@eventsourced/core";
import type { NatsFence } from "./epoch-marker.js";

/** What a fenced view needs of the log under it (the log's persist with a fence option). */
export interface FenceableNatsLog extends EvtLog, EvtLogRetention {
  persist(
    type: string,
    id: string,
    expectedLastSeqNo: number,
    evts: readonly NewEvt[],
    options?: { readonly fence?: NatsFence | undefined },
  ): Promise<Persisted>;
  /** Writes the entity's epoch marker (see `NatsEvtLog.fence`). */
  fence(type: string, id: string, fence: NatsFence): Promise<number>;
  headOfType(type: string): Promise<TypeHead | undefined>;
}

/**
 * How many entities a view remembers having fenced. A tenure may last days while its ids churn; an entity
 * forgotten is fenced again on its next touch, which finds its last message already under this epoch (a
 * read, no write) because every persist of the view carries the fence.
 */
const REMEMBERED_FENCES = 100_000;

/**
 * A `NatsEvtLog` seen through one lease tenure, made by `NatsEvtLog.fenced`. The first time it touches an
 * entity (a read by id, its last seqNo or a persist) it writes the entity's epoch marker, so a previous
 * owner's late write conflicts from then on; its persists carry the fence and reject with
 * `OwnershipLostError` once a newer epoch fenced the entity. Reads by type go to the log unchanged.
 */
export class FencedNatsEvtLog implements EvtLog, EvtLogRetention {
  /** The tenure of this view. */
  readonly fence: NatsFence;
  readonly #log: FenceableNatsLog;
  readonly #fenced = new Map<string, Promise<number>>();

  /** Use `NatsEvtLog.fenced`, which validates the fence. */
  constructor(log: FenceableNatsLog, fence: NatsFence) {
    this.#log = log;
    this.fence = Object.freeze(fence);
  }

  /** See {@link EvtLog.persist}: after the entity's marker, under the fence. */
  async persist(
    type: string,
    id: string,
    expectedLastSeqNo: number,
    evts: readonly NewEvt[],
  ): Promise<Persisted> {
    await this.#ensureFenced(type, id);
    return this.#log.persist(type, id, expectedLastSeqNo, evts, { fence: this.fence });
  }

  /** See {@link EvtLog.lastSeqNo}: after the entity's marker. */
  async lastSeqNo(type: string, id: string): Promise<number> {
    await this.#ensureFenced(type, id);
    return this.#log.lastSeqNo(type, id);
  }

  /** See {@link EvtLog.evtsById}: after the entity's marker, so the read includes every earlier write. */
  async *evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    await this.#ensureFenced(type, id);
    yield* this.#log.evtsById(type, id, options);
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

  /**
   * Writes the entity's marker once per view (while it is among the last {@link REMEMBERED_FENCES} entities
   * fenced); a failed attempt is retried on the next touch.
   */
  #ensureFenced(type: string, id: string): Promise<number> {
    const key = `${type}\u0000${id}`;
    let fenced = this.#fenced.get(key);
    if (fenced === undefined) {
      fenced = this.#log.fence(type, id, this.fence);
      const mine = fenced;
      this.#fenced.set(key, mine);
      mine.catch(() => {
        if (this.#fenced.get(key) === mine) this.#fenced.delete(key);
      });
      // The oldest first (a Map keeps insertion order): each entity forgotten costs one read when touched again.
      if (this.#fenced.size > REMEMBERED_FENCES) {
        this.#fenced.delete(this.#fenced.keys().next().value as string);
      }
    }
    return fenced;
  }
}
