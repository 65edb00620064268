import { Backoff, consoleLogger, isEventSourcedError, type Logger, linkSignals } from "@eventsourced/core";
import { BatchProcessor, describe, emptyStats, type ProcessorStats } from "./batch-processor.js";
import { batches } from "./batches.js";
import { delay } from "./delay.js";
import { ProjectionStoppedError } from "./errors.js";
import { isInfrastructureError } from "./infrastructure-error.js";
import { acquireLease, type HeldTenure, type ProjectionLeaseKeeper, projectionLeaseKey } from "./lease.js";
import { type Maintenance, runMaintenance } from "./maintenance.js";
import { performOperatorRequests } from "./operator-requests.js";
import { PositionWaiters } from "./position-waiters.js";
import { processBatch } from "./process-batch.js";
import type { ProjectionHandler } from "./projection-handler.js";
import { DEFAULT_MAX_EVENTS, type ProjectionOptions } from "./projection-options.js";
import type { ProjectionState, ProjectionStatus } from "./projection-status.js";
import type { ProjectionRow } from "./projection-store.js";
import { storeFailure } from "./store-failure.js";

class LeaseLostError extends Error {}

const hasRequests = (row: ProjectionRow): boolean => row.requests !== undefined && row.requests.length > 0;

/**
 * The working part of a `Projection`: one state (`ProjectionState`) with explicit transitions, and the loop
 * that acquires the lease, claims the checkpoint, reads, batches and applies, pauses, runs maintenance
 * between batches and restarts from the stored checkpoint after infrastructure failures.
 */
export class ProjectionRuntime<E> {
  readonly name: string;
  readonly type: string;
  readonly #options: ProjectionOptions<E>;
  readonly #handler: ProjectionHandler<E>;
  readonly #logger: Logger;
  readonly #keeper: ProjectionLeaseKeeper | undefined;
  /** The current tenure, and a signal aborted when it ends. */
  #lease: HeldTenure | undefined;
  readonly stats: ProcessorStats = emptyStats();
  readonly #waiters = new PositionWaiters();
  #state: ProjectionState = "idle";
  #error: Error | undefined;
  #applied = 0;
  #lastEventAt: Date | undefined;
  #epoch = 0;
  /** Whether this instance has claimed the checkpoint (until then `#applied` knows nothing). */
  #claimed = false;
  /** Ends the current read at the next batch boundary (pause, maintenance, a status change elsewhere). */
  #interrupt = new AbortController();
  #wake = new AbortController();
  #maintenance: Maintenance[] = [];

  constructor(options: ProjectionOptions<E>) {
    this.name = options.name;
    this.type = options.type;
    this.#options = options;
    this.#handler = options.handler;
    this.#logger = options.logger ?? consoleLogger;
    this.#keeper = options.lease;
  }

  get status(): ProjectionStatus {
    return {
      state: this.#state,
      error: this.#error,
      position: this.#applied,
      storedPosition: this.#handler.storedPosition,
      epoch: this.#epoch,
    };
  }

  /** True once this instance claimed the checkpoint: from then on {@link applied} is the projection's. */
  get claimed(): boolean {
    return this.#claimed;
  }

  /** Position and log time of the last event applied. */
  get applied(): { readonly position: number; readonly recordedAt: Date | undefined } {
    return { position: this.#applied, recordedAt: this.#lastEventAt };
  }

  /** Ends the current read at the next batch boundary (a pause). */
  interrupt(): void {
    this.#interrupt.abort();
  }

  /** A resume: clears the error and wakes a paused or failed instance at once. */
  resumed(): void {
    this.#error = undefined;
    this.#wake.abort();
  }

  /** See `Projection.waitFor`. */
  waitFor(position: number, signal?: AbortSignal): Promise<void> {
    if (this.#applied >= position) return Promise.resolve();
    if (this.#state === "idle" || this.#state === "stopped" || this.#state === "failed") {
      return Promise.reject(new ProjectionStoppedError(this.name, { cause: this.#error }));
    }
    return this.#waiters.wait(position, this.#applied, signal);
  }

  /** Runs `run` on the active instance between batches (reset, rebuild, re-drive). */
  maintain(run: () => Promise<void>): Promise<void> {
    if (this.#state !== "running" && this.#state !== "paused" && this.#state !== "failed") {
      return Promise.reject(
        new ProjectionStoppedError(this.name, { cause: new Error(`instance is ${this.#state}`) }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#maintenance.push({ run, resolve, reject });
      this.#interrupt.abort();
      this.#wake.abort();
    });
  }

  /** The one transition point: a failed or stopped instance releases whoever waits for a position. */
  setState(state: ProjectionState, error?: Error): void {
    this.#state = state;
    this.#error = error;
    if (state === "failed" || state === "stopped") {
      this.#waiters.failAll(new ProjectionStoppedError(this.name, { cause: error }));
    }
  }

  /** The instance's loop, until `signal` aborts or it is fenced. */
  async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.#options.retryBackoff ?? { initialMs: 100, maxMs: 10_000 });
    const processor = new BatchProcessor(
      this.#handler,
      {
        name: this.name,
        retries: this.#options.onError?.retries ?? 3,
        backoff: this.#options.onError?.backoff ?? { initialMs: 100, maxMs: 5_000 },
        exhausted: this.#options.onError?.exhausted ?? "dead-letter",
        isInfrastructureError: this.#options.isInfrastructureError ?? isInfrastructureError,
        logger: this.#logger,
        signal,
      },
      this.stats,
    );
    let fenced = false;
    try {
      while (!signal.aborted) {
        if (this.#keeper !== undefined && this.#lease?.tenure.isValid() !== true) {
          this.setState("standby");
          this.#lease = await acquireLease(this.#keeper, this.name, signal, backoff, this.#logger);
          if (this.#lease === undefined) break;
        }
        try {
          await this.#runClaimed(processor, signal);
          backoff.reset();
        } catch (err) {
          this.#handler.end();
          if (isEventSourcedError(err, "PROJECTION_FENCED")) {
            fenced = true;
            this.#options.instrumentation?.lease?.({
              event: "fenced",
              key: projectionLeaseKey(this.name),
              epoch: this.#epoch,
            });
            this.#logger.error("projection fenced: another instance owns it; stopping", {
              projection: this.name,
              error: describe(err),
            });
            this.setState("failed", err);
            return;
          }
          if (signal.aborted) break;
          if (err instanceof LeaseLostError) continue;
          if (isEventSourcedError(err, "POISON_EVENT")) {
            await this.#recordFailure(err, signal, backoff);
            continue;
          }
          const error = err instanceof Error ? err : new Error(String(err));
          const infrastructure = (this.#options.isInfrastructureError ?? isInfrastructureError)(err);
          this.#logger[infrastructure ? "warn" : "error"](
            "projection interrupted; restarting from its checkpoint",
            {
              projection: this.name,
              error: describe(err),
            },
          );
          this.#error = error;
          await delay(backoff.next(), signal);
        }
      }
    } finally {
      this.#handler.end();
      await this.#lease?.tenure.release().catch(() => {});
      this.#lease = undefined;
      for (const m of this.#maintenance.splice(0)) m.reject(new ProjectionStoppedError(this.name));
      if (!fenced) this.setState("stopped");
    }
  }

  /** Claims the checkpoint under the current lease epoch and works until interrupted. */
  async #runClaimed(processor: BatchProcessor<E>, signal: AbortSignal): Promise<void> {
    const epoch = this.#lease?.tenure.epoch ?? 0;
    const row = await this.#handler.store.claim(this.name, this.type, epoch);
    this.#epoch = epoch;
    this.#handler.begin({ name: this.name, epoch, position: row.position });
    this.#applied = row.position;
    this.#lastEventAt = row.lastEventAt;
    this.#claimed = true;
    this.#waiters.advance(row.position);
    if (this.#maintenance.length > 0) {
      await runMaintenance(this.#maintenance);
      return;
    }
    if (row.requests !== undefined && row.requests.length > 0) {
      await performOperatorRequests(this.#options, this.#logger, row.requests);
      return;
    }
    if (row.status !== "running") {
      // A failure recorded by this instance keeps its typed error; one recorded elsewhere is known by its text.
      const failure = row.status === "failed" ? (this.#error ?? new Error(row.error ?? "failed")) : undefined;
      this.setState(row.status, failure);
      await this.#awaitResume(signal);
      return;
    }
    this.setState("running");
    await this.#consume(processor, signal);
    await this.#handler.flush();
  }

  async #consume(processor: BatchProcessor<E>, signal: AbortSignal): Promise<void> {
    this.#interrupt = new AbortController();
    const interrupt = this.#interrupt;
    const lost = this.#lease?.lost;
    // Not `AbortSignal.any`: on Node 20 each call leaves an entry on `signal` (and `lost`) until they go.
    const linked = linkSignals([signal, interrupt.signal, lost]);
    const read = linked.signal;
    const poll = setInterval(
      () => void this.#checkStoredStatus(interrupt),
      this.#options.statusPollMs ?? 1_000,
    );
    try {
      const records = this.#options.evtLog.evtsByType(this.type, {
        after: this.#handler.storedPosition,
        live: true,
        signal: read,
        undecodable: "yield",
      });
      const limits = {
        maxEvents: this.#options.batch?.maxEvents ?? DEFAULT_MAX_EVENTS,
        maxWaitMs: this.#options.batch?.maxWaitMs ?? 20,
      };
      for await (const batch of batches(records, limits)) {
        // A stale owner must not hand anything to the handler (side effects in at-least-once mode).
        if (this.#lease !== undefined && !this.#lease.tenure.isValid()) throw new LeaseLostError();
        await processBatch(processor, batch, this.#options);
        const last = batch.at(-1)!;
        this.#applied = last.position;
        this.#lastEventAt = last.recordedAt;
        if (this.#error !== undefined) this.#error = undefined;
        this.#waiters.advance(last.position);
        if (read.aborted) break;
      }
    } finally {
      clearInterval(poll);
      linked.dispose();
    }
    if (lost?.aborted) throw new LeaseLostError();
  }

  async #checkStoredStatus(interrupt: AbortController): Promise<void> {
    try {
      const row = await this.#handler.store.load(this.name);
      if (row !== undefined && (row.status !== "running" || hasRequests(row))) interrupt.abort();
    } catch {
      // The read or the next save notices a store that is away.
    }
  }

  /** Waits while paused or failed, for a resume (here or in another process), maintenance, or the end. */
  async #awaitResume(signal: AbortSignal): Promise<void> {
    for (;;) {
      if (this.#maintenance.length > 0) return;
      this.#wake = new AbortController();
      const lost = this.#lease?.lost;
      // Not `AbortSignal.any`: on Node 20 each call leaves an entry on `signal` (and `lost`) until they go.
      await delay(this.#options.statusPollMs ?? 1_000, signal, this.#wake.signal, lost);
      if (signal.aborted || lost?.aborted || this.#maintenance.length > 0) return;
      try {
        const row = await this.#handler.store.load(this.name);
        if (row?.status === "running" || (row !== undefined && hasRequests(row))) return;
      } catch {
        // Checked again after the next interval.
      }
    }
  }

  /** A poison event stopped the projection: persist `failed` with the reason (retrying the store as needed). */
  async #recordFailure(err: Error, signal: AbortSignal, backoff: Backoff): Promise<void> {
    this.#logger.error("projection stopped by a poison event", {
      projection: this.name,
      error: describe(err),
    });
    this.setState("failed", err);
    await storeFailure(this.#handler.store, this.name, err, signal, backoff, this.#logger);
  }
}
