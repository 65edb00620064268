import { deferred } from "../deferred.js";
import { InvalidArgumentError, SeqNoConflictError } from "../errors.js";
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
import { validateTypeAndId } from "../validate.js";

/**
 * An EvtLog in memory: for unit tests and embedded use. Passes the same contract suite as the PostgreSQL
 * and NATS adapters, including the live by-type stream. Nothing survives the process.
 */
export class InMemoryEvtLog implements EvtLog {
  // Type names cannot contain NUL, so "type\0id" identifies an entity unambiguously.
  readonly #byEntity = new Map<string, TypedEvtRecord[]>();
  readonly #byType = new Map<string, TypedEvtRecord[]>();
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
    const key = `${type}\0${id}`;
    let stored = this.#byEntity.get(key);
    const last = stored?.length ?? 0;
    if (last !== expectedLastSeqNo) {
      throw new SeqNoConflictError(type, id, expectedLastSeqNo, { actualLastSeqNo: last });
    }
    if (stored === undefined) {
      stored = [];
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
      stored.push(record);
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
    return this.#byEntity.get(`${type}\0${id}`)?.length ?? 0;
  }

  async *evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    validateTypeAndId(type, id);
    const stored = this.#byEntity.get(`${type}\0${id}`) ?? [];
    if (!Number.isSafeInteger(options.from) || options.from < 1) {
      throw new InvalidArgumentError(`invalid seqNo ${options.from} to read from: must be an integer >= 1`);
    }
    const end = Math.min(stored.length, options.to ?? Number.POSITIVE_INFINITY);
    for (let seqNo = options.from; seqNo <= end; seqNo++) {
      if (options.signal?.aborted) return;
      const { type: _t, id: _i, position: _p, ...record } = stored[seqNo - 1]!;
      yield record;
    }
  }

  async headOfType(type: string): Promise<TypeHead | undefined> {
    validateTypeAndId(type, "-");
    const last = this.#byType.get(type)?.at(-1);
    return last === undefined ? undefined : { position: last.position, recordedAt: last.recordedAt };
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
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
