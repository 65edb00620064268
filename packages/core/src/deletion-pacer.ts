import { sleep } from "./deferred.js";
import { InvalidArgumentError } from "./errors/index.js";
import { linkSignals } from "./linked-signal.js";

/**
 * How fast background deletion may go (retention runs, the deletion after a tombstone, `deleteEntity`,
 * `runRetention`), so that it does not crowd out the writers of the same database. Each batch (at most
 * `batchSize` events, one call to the log's `deleteEvts`) waits until the rate allows it; a batch that
 * alone takes longer than its share of the rate is followed by no pause. The rate holds on average over
 * a few batches (a batch that starts up to 20 ms late is made up for); the first batch after a quiet
 * spell starts at once, and the budget does not accumulate while nothing is deleted.
 *
 * The defaults keep deletion at 60,000 events/s, one batch at a time: on PostgreSQL (2 cores, 50 writers)
 * a batch of 1,000 events takes about 1.5 ms, so deletion occupies the database about 10 % of the time
 * (ADR 0115, measured in `bench/src/lifecycle.bench.ts`).
 *
 * @example
 * ```ts
 * retention: { snapshotEvery: 100, keepSnapshots: 2, deleteEvents: true,
 *              pacing: { maxEventsPerSecond: 20_000, pauseMs: 5 } }
 * ```
 */
export interface DeletionPacing {
  /**
   * Most events deleted per second through one pacer (counted as the log reports them removed).
   * `Infinity` turns the rate limit off. Default 60,000. Retention keeps an entity's store bounded only
   * when this is above the rate at which the entity type writes events: set it higher for busier types.
   */
  readonly maxEventsPerSecond?: number | undefined;
  /** A pause after every batch, in milliseconds, on top of what the rate asks for. Default 0. */
  readonly pauseMs?: number | undefined;
  /** Batches in flight at once through one pacer (e.g. several entity types sharing it). Default 1. */
  readonly concurrency?: number | undefined;
}

/** {@link DeletionPacing} with its defaults applied. */
export interface ResolvedDeletionPacing {
  readonly maxEventsPerSecond: number;
  readonly pauseMs: number;
  readonly concurrency: number;
}

/** The defaults of {@link DeletionPacing}. */
export const DEFAULT_DELETION_PACING: ResolvedDeletionPacing = Object.freeze({
  maxEventsPerSecond: 60_000,
  pauseMs: 0,
  concurrency: 1,
});

/** Time as a {@link DeletionPacer} sees it; tests give a fake one. */
export interface PacerClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Resolves after `ms`, or early once `signal` aborts. */
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void>;
}

/** How late a batch may start and still count as on schedule (no burst beyond this is ever allowed). */
const SCHEDULE_SLACK_MS = 20;

const realClock: PacerClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, signal).done,
};

/**
 * Paces batches of deletion by a {@link DeletionPacing}: a budget of events per second, a pause between
 * batches and a bound on the batches in flight. Every entity type with a `retention` policy gets one from
 * its `pacing`; give the same instance to several types (their `retention.pacing`) and to operations calls
 * (`deleteEntity`, `runRetention`) to hold them all to one budget.
 * @throws InvalidArgumentError naming the option: `maxEventsPerSecond` not a number > 0, `pauseMs` not a
 * finite number >= 0, `concurrency` not an integer >= 1.
 */
export class DeletionPacer {
  /** The settings, defaults applied. */
  readonly pacing: ResolvedDeletionPacing;
  readonly #clock: PacerClock;
  /** When the next batch may start (clock milliseconds). */
  #nextStart = Number.NEGATIVE_INFINITY;
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(pacing: DeletionPacing = {}, clock: PacerClock = realClock) {
    this.pacing = resolveDeletionPacing(pacing, "pacing");
    this.#clock = clock;
  }

  /**
   * Runs one batch of deletion when the pacing allows it and accounts for what it removed. Rejects with
   * `signal.reason` as soon as `signal` aborts while waiting (nothing of the batch has run then).
   */
  async batch<T extends { readonly removed: number }>(
    run: () => Promise<T>,
    signal?: AbortSignal | undefined,
  ): Promise<T> {
    await this.#slot(signal);
    try {
      const wait = this.#nextStart - this.#clock.now();
      // Checked first: the signal may have aborted since the slot was granted, and a clock's sleep need not
      // end for a signal that aborted before it started.
      signal?.throwIfAborted();
      if (wait > 0) await this.#clock.sleep(wait, signal);
      signal?.throwIfAborted();
      const started = this.#clock.now();
      const result = await run();
      const { maxEventsPerSecond, pauseMs } = this.pacing;
      // A batch that starts a little late (a timer fires after its time, a slow batch before it) keeps
      // the schedule, so the rate is met on average; one after a longer quiet spell starts it afresh.
      const base = started - this.#nextStart <= SCHEDULE_SLACK_MS ? this.#nextStart : started;
      const due = base + (result.removed * 1000) / maxEventsPerSecond;
      this.#nextStart = Math.max(due, this.#clock.now() + pauseMs);
      return result;
    } finally {
      this.#release();
    }
  }

  async #slot(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.#inFlight < this.pacing.concurrency) {
      this.#inFlight++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const granted = () => {
        signal?.removeEventListener("abort", aborted);
        resolve();
      };
      const aborted = () => {
        const at = this.#waiting.indexOf(granted);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal?.reason);
      };
      this.#waiting.push(granted);
      signal?.addEventListener("abort", aborted, { once: true });
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    // The slot passes straight to the next waiter: #inFlight stays as it is.
    if (next !== undefined) next();
    else this.#inFlight--;
  }
}

/**
 * A pacing option as given (settings, an existing pacer, or nothing) as a pacer; `name` prefixes the
 * option in error messages (e.g. `retention.pacing`).
 */
export function deletionPacer(
  value: DeletionPacing | DeletionPacer | undefined,
  name: string,
): DeletionPacer {
  if (value instanceof DeletionPacer) return value;
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    throw new InvalidArgumentError(`${name} must be an object or a DeletionPacer, got ${String(value)}`);
  }
  resolveDeletionPacing(value ?? {}, name);
  return new DeletionPacer(value ?? {});
}

function resolveDeletionPacing(pacing: DeletionPacing, name: string): ResolvedDeletionPacing {
  if (typeof pacing !== "object" || pacing === null) {
    throw new InvalidArgumentError(`${name} must be an object, got ${String(pacing)}`);
  }
  const { maxEventsPerSecond, pauseMs, concurrency } = {
    ...DEFAULT_DELETION_PACING,
    ...defined(pacing),
  } as ResolvedDeletionPacing;
  // `!(x > 0)` also refuses NaN and non-numbers; Infinity (no limit) passes.
  if (typeof maxEventsPerSecond !== "number" || !(maxEventsPerSecond > 0)) {
    throw new InvalidArgumentError(
      `${name}.maxEventsPerSecond must be a number > 0 (Infinity: no limit), got ${String(maxEventsPerSecond)}`,
    );
  }
  if (typeof pauseMs !== "number" || !Number.isFinite(pauseMs) || pauseMs < 0) {
    throw new InvalidArgumentError(`${name}.pauseMs must be a finite number >= 0, got ${String(pauseMs)}`);
  }
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(`${name}.concurrency must be an integer >= 1, got ${String(concurrency)}`);
  }
  return Object.freeze({ maxEventsPerSecond, pauseMs, concurrency });
}

/** The options that are set: `{ pauseMs: undefined }` means the default, as everywhere else. */
function defined(pacing: DeletionPacing): DeletionPacing {
  return Object.fromEntries(Object.entries(pacing).filter(([, v]) => v !== undefined));
}

/**
 * A shared pacer's schedule until `hurry` aborts, then none: the runner gives each entity's deletion one,
 * and hurries it when the entity stops, so that `stop()` waits for the rest at full speed rather than
 * paced (deletion after a tombstone must complete; ADR 0115). Internal: not exported from the package.
 */
export class HurriablePacer extends DeletionPacer {
  readonly #shared: DeletionPacer;
  readonly #hurry: AbortSignal;

  constructor(shared: DeletionPacer, hurry: AbortSignal) {
    super(shared.pacing);
    this.#shared = shared;
    this.#hurry = hurry;
  }

  override async batch<T extends { readonly removed: number }>(
    run: () => Promise<T>,
    signal?: AbortSignal | undefined,
  ): Promise<T> {
    if (!this.#hurry.aborted) {
      // Not `AbortSignal.any`: on Node 20 each batch would leave an entry on the caller's signal.
      const either = linkSignals([signal, this.#hurry]);
      try {
        return await this.#shared.batch(run, either.signal);
      } catch (error) {
        // Only a wait that the hurry cut short is run now; any other failure is the batch's own.
        if (error !== this.#hurry.reason || signal?.aborted) throw error;
      } finally {
        either.dispose();
      }
    }
    signal?.throwIfAborted();
    return run();
  }
}
