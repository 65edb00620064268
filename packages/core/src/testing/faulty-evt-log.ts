import { PersistError, ReadError } from "../errors/index.js";
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

/** How many calls (and records) an {@link FaultyEvtLog} has passed to its inner log. */
export interface EvtLogCounts {
  persist: number;
  lastSeqNo: number;
  evtsById: number;
  /** Records yielded by `evtsById`: proves that recovery reads only the tail. */
  evtsByIdRecords: number;
  evtsByType: number;
  evtsByTypeRecords: number;
}

/** Options of {@link FaultyEvtLog}. */
export interface FaultyEvtLogOptions {
  /** Delay added before every call reaches the inner log. Default 0. */
  readonly latencyMs?: number | undefined;
}

type PersistFault =
  | { readonly kind: "fail"; readonly afterWrite: boolean }
  | { readonly kind: "conflict"; readonly foreign: NewEvt };

function emptyCounts(): EvtLogCounts {
  return { persist: 0, lastSeqNo: 0, evtsById: 0, evtsByIdRecords: 0, evtsByType: 0, evtsByTypeRecords: 0 };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Wraps any EvtLog and injects failures, for testing how entities (and your code) behave when the log
 * misbehaves. Faults are consumed in the order they were armed.
 * @example
 * const log = new FaultyEvtLog(new InMemoryEvtLog());
 * log.failNextPersist({ afterWrite: true }); // written, but the caller hears PersistError (outcome unknown)
 * await expect(ref.handleCmd(cmd)).rejects.toBeInstanceOf(PersistError);
 */
export class FaultyEvtLog implements EvtLog {
  /** Calls and records passed through so far; reset with {@link resetCounts}. */
  counts: EvtLogCounts = emptyCounts();
  /** Delay added before every call. */
  latencyMs: number;

  readonly #inner: EvtLog;
  readonly #persistFaults: PersistFault[] = [];
  #failingReads = 0;
  #failingPersists = 0;

  constructor(inner: EvtLog, options: FaultyEvtLogOptions = {}) {
    this.#inner = inner;
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** The wrapped log (untouched by faults and counters). */
  get inner(): EvtLog {
    return this.#inner;
  }

  /**
   * The next persist fails with `PersistError`. With `afterWrite: true` the events ARE written first and
   * `outcomeUnknown` is true (a connection lost after the write was sent); otherwise nothing is written and
   * `outcomeUnknown` is false.
   */
  failNextPersist(options: { readonly afterWrite: boolean }): void {
    this.#persistFaults.push({ kind: "fail", afterWrite: options.afterWrite });
  }

  /**
   * Before the next persist, another writer appends `foreign` to the same entity, so that persist meets a
   * real `SeqNoConflictError` from the inner log. `foreign` must be an event the entity can decode.
   */
  conflictNextPersist(foreign: NewEvt): void {
    this.#persistFaults.push({ kind: "conflict", foreign });
  }

  /** The next `n` reads (`lastSeqNo`, `evtsById`, `evtsByType`) throw `ReadError`; `Infinity` until {@link heal}. */
  failReads(n: number): void {
    this.#failingReads = n;
  }

  /** The next `n` persists throw `PersistError` (nothing written, outcome known); `Infinity` until {@link heal}. */
  failPersists(n: number): void {
    this.#failingPersists = n;
  }

  /** Clears every armed fault: the log is reachable and well-behaved again. */
  heal(): void {
    this.#persistFaults.length = 0;
    this.#failingReads = 0;
    this.#failingPersists = 0;
  }

  /** Zeroes {@link counts}, e.g. after setting up a history, so a test counts only what follows. */
  resetCounts(): void {
    this.counts = emptyCounts();
  }

  async persist(
    type: string,
    id: string,
    expectedLastSeqNo: number,
    evts: readonly NewEvt[],
  ): Promise<Persisted> {
    await this.#delay();
    this.counts.persist++;
    if (this.#failingPersists > 0) {
      this.#failingPersists--;
      throw new PersistError("injected: the log is unreachable", false);
    }
    const fault = this.#persistFaults.shift();
    if (fault?.kind === "conflict") {
      const last = await this.#inner.lastSeqNo(type, id);
      await this.#inner.persist(type, id, last, [fault.foreign]);
    } else if (fault?.kind === "fail") {
      if (fault.afterWrite) {
        const cause = new Error("injected: connection lost after the write was sent");
        await this.#inner.persist(type, id, expectedLastSeqNo, evts);
        throw new PersistError("injected: persist outcome unknown", true, { cause });
      }
      throw new PersistError("injected: persist failed before writing", false);
    }
    return this.#inner.persist(type, id, expectedLastSeqNo, evts);
  }

  async lastSeqNo(type: string, id: string): Promise<number> {
    await this.#delay();
    this.counts.lastSeqNo++;
    this.#maybeFailRead();
    return this.#inner.lastSeqNo(type, id);
  }

  async *evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    await this.#delay();
    this.counts.evtsById++;
    this.#maybeFailRead();
    for await (const record of this.#inner.evtsById(type, id, options)) {
      this.counts.evtsByIdRecords++;
      yield record;
    }
  }

  async *evtsByType(type: string, options?: EvtsByTypeOptions): AsyncIterable<TypedEvtRecord> {
    await this.#delay();
    this.counts.evtsByType++;
    this.#maybeFailRead();
    for await (const record of this.#inner.evtsByType(type, options)) {
      this.counts.evtsByTypeRecords++;
      yield record;
    }
  }

  async headOfType(type: string): Promise<TypeHead | undefined> {
    await this.#delay();
    this.#maybeFailRead();
    return this.#inner.headOfType?.(type);
  }

  #maybeFailRead(): void {
    if (this.#failingReads > 0) {
      this.#failingReads--;
      throw new ReadError("injected: the log is unreachable");
    }
  }

  async #delay(): Promise<void> {
    if (this.latencyMs > 0) await sleep(this.latencyMs);
  }
}
