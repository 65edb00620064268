import { deferred } from "../deferred.js";
import { InvalidArgumentError, SeqNoConflictError } from "../errors/index.js";
import type {
  EvtLog,
  EvtRecord,
  EvtsByIdOptions,
  EvtsByTypeOptions,
  NewEvt,
  Persisted,
  TypedEvtRecord,
  TypeHead,
} from "../evt-log.js";
import type { EvtLogRetention, EvtsDeleted } from "../evt-log-retention.js";
import { validateEvtMetadata, validateTypeAndId } from "../validate.js";

/** One entity's stored events: seqNos `deletedTo + 1 .. deletedTo + records.length`. */
interface EntityEvts {
  deletedTo: number;
  records: TypedEvtRecord[];
}

/**
 * An EvtLog in memory: for unit tests and embedded use. Passes the same contract suite as the PostgreSQL
 * and NATS adapters, including the live by-type stream and retention. Nothing survives the process.
 */
export class InMemoryEvtLog implements EvtLog, EvtLogRetention {
  // Type names cannot contain NUL, so "type\0id" identifies an entity unambiguously.
  readonly #byEntity = new Map<string, EntityEvts>();
  readonly #byType = new Map<string, TypedEvtRecord[]>();
  // Deleted events still in `#byType` (skipped by readers): compacted once they are half of a type's list,
  // so that deleting stays cheap however many events a type has.
  readonly #deleted = new Set<TypedEvtRecord>();
  readonly #deletedByType = new Map<string, number>();
  #position = 0;
  #appended = deferred<void>();
  #liveReaders = 0;

  async persist(
    type: string,
    id: string,
    expectedLastSeqNo: number,
    evts: readonly NewEvt[],
  ): Promise<Persisted> {
    validateTypeAndId(type, id);
    if (!Number.isInteger(expectedLastSeqNo) || expectedLastSeqNo < 0) {
      throw new InvalidArgumentError(`invalid expectedLastSeqNo ${expectedLastSeqNo}: an integer >= 0`);
    }
    if (evts.length === 0) throw new InvalidArgumentError("persist needs at least one event");
    for (let i = 0; i < evts.length; i++) {
      const metadata = evts[i]!.metadata;
      if (metadata !== undefined) validateEvtMetadata(metadata, i);
    }
    const key = `${type}\0${id}`;
    let stored = this.#byEntity.get(key);
    const last = stored === undefined ? 0 : stored.deletedTo + stored.records.length;
    if (last !== expectedLastSeqNo) {
      throw new SeqNoConflictError(type, id, expectedLastSeqNo, { actualLastSeqNo: last });
    }
    if (stored === undefined) {
      stored = { deletedTo: 0, records: [] };
      this.#byEntity.set(key, stored);
    }
    let ofType = this.#byType.get(type);
    if (ofType === undefined) {
      ofType = [];
      this.#byType.set(type, ofType);
    }
    const recordedAt = new Date();
    let seqNo = last;
    for (const evt of evts) {
      const record: Writable<TypedEvtRecord> = {
        type,
        id,
        seqNo: ++seqNo,
        position: ++this.#position,
        recordedAt,
        bytes: evt.bytes.slice(),
      };
      if (evt.contentType !== undefined) record.contentType = evt.contentType;
      if (evt.metadata !== undefined) record.metadata = evt.metadata;
      stored.records.push(record);
      ofType.push(record);
    }
    // Only live by-type readers wait on this; without them, skip allocating a promise per persist.
    if (this.#liveReaders > 0) {
      const appended = this.#appended;
      this.#appended = deferred<void>();
      appended.resolve();
    }
    return { seqNo, position: this.#position };
  }

  async lastSeqNo(type: string, id: string): Promise<number> {
    validateTypeAndId(type, id);
    const stored = this.#byEntity.get(`${type}\0${id}`);
    return stored === undefined ? 0 : stored.deletedTo + stored.records.length;
  }

  async *evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    validateTypeAndId(type, id);
    const { deletedTo, records } = this.#byEntity.get(`${type}\0${id}`) ?? { deletedTo: 0, records: [] };
    if (!Number.isSafeInteger(options.from) || options.from < 1) {
      throw new InvalidArgumentError(`invalid seqNo ${options.from} to read from: must be an integer >= 1`);
    }
    const end = Math.min(deletedTo + records.length, options.to ?? Number.POSITIVE_INFINITY);
    for (let seqNo = Math.max(options.from, deletedTo + 1); seqNo <= end; seqNo++) {
      if (options.signal?.aborted) return;
      const { type: _t, id: _i, ...record } = records[seqNo - deletedTo - 1]!;
      yield record;
    }
  }

  /** See {@link EvtLogRetention.deleteEvts}: the head (last seqNo) always survives. */
  async deleteEvts(type: string, id: string, toSeqNo: number): Promise<EvtsDeleted> {
    validateTypeAndId(type, id);
    if (!Number.isSafeInteger(toSeqNo) || toSeqNo < 0) {
      throw new InvalidArgumentError(`invalid seqNo ${toSeqNo} to delete to: an integer >= 0`);
    }
    const stored = this.#byEntity.get(`${type}\0${id}`);
    if (stored === undefined) return { deletedTo: 0, removed: 0 };
    const removed = Math.max(0, Math.min(toSeqNo - stored.deletedTo, stored.records.length));
    if (removed === 0) return { deletedTo: stored.deletedTo, removed: 0 };
    for (const record of stored.records.splice(0, removed)) this.#deleted.add(record);
    stored.deletedTo += removed;
    this.#compact(type, (this.#deletedByType.get(type) ?? 0) + removed);
    return { deletedTo: stored.deletedTo, removed };
  }

  #compact(type: string, deleted: number): void {
    const ofType = this.#byType.get(type) ?? [];
    if (deleted * 2 < ofType.length) {
      this.#deletedByType.set(type, deleted);
      return;
    }
    this.#byType.set(
      type,
      ofType.filter((r) => !this.#deleted.has(r)),
    );
    for (const record of ofType) this.#deleted.delete(record);
    this.#deletedByType.delete(type);
  }

  async deletedTo(type: string, id: string): Promise<number> {
    validateTypeAndId(type, id);
    return this.#byEntity.get(`${type}\0${id}`)?.deletedTo ?? 0;
  }

  async resetEntity(type: string, id: string, expectedLastSeqNo: number): Promise<void> {
    validateTypeAndId(type, id);
    const last = await this.lastSeqNo(type, id);
    if (last !== expectedLastSeqNo) {
      throw new SeqNoConflictError(type, id, expectedLastSeqNo, { actualLastSeqNo: last });
    }
    await this.deleteEvts(type, id, last);
    this.#byEntity.delete(`${type}\0${id}`);
  }

  async headOfType(type: string): Promise<TypeHead | undefined> {
    validateTypeAndId(type, "-");
    const ofType = this.#byType.get(type) ?? [];
    // Deleted records are compacted away lazily: the head is the last one still stored.
    for (let i = ofType.length - 1; i >= 0; i--) {
      const record = ofType[i]!;
      if (!this.#deleted.has(record)) return { position: record.position, recordedAt: record.recordedAt };
    }
    return undefined;
  }

  async *evtsByType(type: string, options: EvtsByTypeOptions = {}): AsyncIterable<TypedEvtRecord> {
    validateTypeAndId(type, "-");
    const { signal, live = false } = options;
    const after = options.after ?? 0;
    const aborted = signal === undefined ? undefined : abortPromise(signal);
    if (live) this.#liveReaders++;
    try {
      yield* this.#readByType(type, after, live, signal, aborted);
    } finally {
      if (live) this.#liveReaders--;
    }
  }

  async *#readByType(
    type: string,
    from: number,
    live: boolean,
    signal: AbortSignal | undefined,
    aborted: Promise<void> | undefined,
  ): AsyncIterable<TypedEvtRecord> {
    let after = from;
    while (!signal?.aborted) {
      const appended = this.#appended.promise;
      const ofType = this.#byType.get(type) ?? [];
      for (let i = firstAfter(ofType, after); i < ofType.length; i++) {
        if (signal?.aborted) return;
        const record = ofType[i]!;
        if (this.#deleted.has(record)) continue;
        after = record.position;
        yield record;
      }
      if (!live) return;
      await (aborted === undefined ? appended : Promise.race([appended, aborted]));
    }
  }
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

function firstAfter(records: readonly TypedEvtRecord[], position: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid]!.position <= position) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function abortPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
