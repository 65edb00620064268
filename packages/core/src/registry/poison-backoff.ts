import { Backoff, type BackoffOptions } from "../backoff.js";

interface FailureRecord {
  readonly backoff: Backoff;
  /** When the id may recover again (`performance.now()` milliseconds). */
  retryAt: number;
}

/**
 * Per-id backoff after failed recoveries, so that a poisoned entity (undecodable history, a snapshot ahead
 * of its log) cannot hot-loop recoveries while callers keep sending to it. Each failure of an id doubles its
 * wait (jittered, see {@link Backoff}); a success forgets the id.
 *
 * Only failing ids are kept. A record whose wait ended longer than `maxMs` ago is as good as forgotten (the
 * next failure starts from `initialMs` again), and such records are pruned whenever the map has doubled
 * since the last pruning, so ids that failed once and were never touched again do not accumulate.
 */
export class PoisonBackoff {
  readonly #options: { readonly initialMs: number; readonly maxMs: number };
  readonly #records = new Map<string, FailureRecord>();
  #pruneAt = 64;

  constructor(options: BackoffOptions) {
    // Validates the options once.
    const { initialMs, maxMs } = new Backoff(options);
    this.#options = { initialMs, maxMs };
  }

  /** Ids with a failure record. */
  get size(): number {
    return this.#records.size;
  }

  /** Milliseconds until `id` may recover again; 0 when it may now. */
  delayMs(id: string, now: number): number {
    const record = this.#records.get(id);
    return record === undefined ? 0 : Math.max(0, record.retryAt - now);
  }

  /** Records a failed recovery of `id` at `now`; returns how long the id now waits. */
  failed(id: string, now: number): number {
    let record = this.#records.get(id);
    if (record === undefined || this.#expired(record, now)) {
      record = { backoff: new Backoff(this.#options), retryAt: now };
      this.#records.set(id, record);
      if (this.#records.size >= this.#pruneAt) this.#prune(now);
    }
    const delay = record.backoff.next();
    record.retryAt = now + delay;
    return delay;
  }

  /** `id` recovered: it starts afresh. */
  succeeded(id: string): void {
    this.#records.delete(id);
  }

  #expired(record: FailureRecord, now: number): boolean {
    return now - record.retryAt > this.#options.maxMs;
  }

  #prune(now: number): void {
    for (const [id, record] of this.#records) if (this.#expired(record, now)) this.#records.delete(id);
    this.#pruneAt = Math.max(64, this.#records.size * 2);
  }
}
