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
  /** The options of every persist, made once. */
  readonly #persistOptions: { readonly fence: NatsFence };
  /**
   * Per type, per id: `true` once the entity's marker is written, the write while it is under way. Two
   * levels, so that the usual persist neither builds a key string nor awaits anything before the log's.
   */
  readonly #fenced = new Map<string, Map<string, Promise<number> | true>>();
  /** Entities in `#fenced`. */
  #remembered = 0;

  /** Use `NatsEvtLog.fenced`, which validates the fence. */
  constructor(log: FenceableNatsLog, fence: NatsFence) {
    this.#log = log;
    this.fence = Object.freeze(fence);
    this.#persistOptions = Object.freeze({ fence: this.fence });
  }

  /** See {@link EvtLog.persist}: after the entity's marker, under the fence. */
  persist(type: string, id: string, expectedLastSeqNo: number, evts: readonly NewEvt[]): Promise<Persisted> {
    const fenced = this.#ensureFenced(type, id);
    // The usual case (the marker is written) goes to the log directly: no await, no promise of its own.
    if (fenced === true) return this.#log.persist(type, id, expectedLastSeqNo, evts, this.#persistOptions);
    return this.#persistAfter(fenced, type, id, expectedLastSeqNo, evts);
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

  async #persistAfter(
    fencing: Promise<number>,
    type: string,
    id: string,
    expectedLastSeqNo: number,
    evts: readonly NewEvt[],
  ): Promise<Persisted> {
    await fencing;
    return this.#log.persist(type, id, expectedLastSeqNo, evts, this.#persistOptions);
  }

  /**
   * Writes the entity's marker once per view (while it is among the last {@link REMEMBERED_FENCES} entities
   * fenced): `true` when it is written, else the write (a failed one is retried on the next touch).
   */
  #ensureFenced(type: string, id: string): Promise<number> | true {
    let ids = this.#fenced.get(type);
    const known = ids?.get(id);
    if (known !== undefined) return known;
    if (ids === undefined) {
      ids = new Map();
      this.#fenced.set(type, ids);
    }
    const entities = ids;
    const fencing = this.#log.fence(type, id, this.fence);
    entities.set(id, fencing);
    this.#remembered++;
    fencing.then(
      () => {
        if (entities.get(id) === fencing) entities.set(id, true);
      },
      () => {
        if (entities.get(id) !== fencing) return;
        entities.delete(id);
        this.#remembered--;
        // No empty map stays behind: each would hold memory (a caller may try any number of types the log
        // refuses), and `#forgetOldest` must find an entity in the first map.
        if (entities.size === 0 && this.#fenced.get(type) === entities) this.#fenced.delete(type);
      },
    );
    if (this.#remembered > REMEMBERED_FENCES) this.#forgetOldest();
    return fencing;
  }

  /**
   * Forgets the oldest entity of the type fenced first (a Map keeps insertion order): each entity forgotten
   * costs one read when touched again. No map in `#fenced` is empty (a type's map goes with its last entity).
   */
  #forgetOldest(): void {
    const [type, ids] = this.#fenced.entries().next().value as [string, Map<string, Promise<number> | true>];
    ids.delete(ids.keys().next().value as string);
    this.#remembered--;
    if (ids.size === 0) this.#fenced.delete(type);
  }
}
