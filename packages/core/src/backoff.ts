import { InvalidArgumentError } from "./errors/index.js";

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** The first delay, before jitter. Default 50 ms. */
  readonly initialMs?: number | undefined;
  /** The largest delay, before jitter. Default 5,000 ms. */
  readonly maxMs?: number | undefined;
}

/**
 * Exponential backoff with jitter: the base delay doubles from `initialMs` up to `maxMs`, and each delay
 * is drawn uniformly from [base / 2, base] ("equal jitter"), so many waiters that failed together (entities
 * of one process after a database restart, processes of a cluster) do not retry in lockstep, while none
 * retries sooner than half the base.
 * @example
 * const backoff = new Backoff({ initialMs: 100, maxMs: 30_000 });
 * for (;;) { try { return await attempt(); } catch { await sleep(backoff.next()); } }
 */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  #base: number;

  constructor(options: BackoffOptions = {}) {
    const initialMs = options.initialMs ?? 50;
    const maxMs = options.maxMs ?? Math.max(5_000, initialMs);
    if (
      typeof initialMs !== "number" ||
      typeof maxMs !== "number" ||
      !(initialMs > 0) ||
      !(maxMs >= initialMs) ||
      !Number.isFinite(maxMs)
    ) {
      throw new InvalidArgumentError(
        `backoff needs 0 < initialMs <= maxMs (finite), got initialMs ${initialMs}, maxMs ${maxMs}`,
      );
    }
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.#base = initialMs;
  }

  /** The next delay in milliseconds; each call doubles the base up to `maxMs`. */
  next(): number {
    const base = this.#base;
    this.#base = Math.min(base * 2, this.maxMs);
    return base / 2 + Math.random() * (base / 2);
  }

  /** Starts again from `initialMs` (after a success). */
  reset(): void {
    this.#base = this.initialMs;
  }
}
