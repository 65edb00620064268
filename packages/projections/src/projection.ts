import {
  Backoff,
  ConfigurationError,
  consoleLogger,
  isEventSourcedError,
  type Logger,
  type TypedEvtRecord,
} from "@eventsourced/core";
import { BatchProcessor, describe, emptyStats, type ProcessorStats } from "./batch-processor.js";
import { batches } from "./batches.js";
import { delay } from "./delay.js";
import { ProjectionStoppedError } from "./errors.js";
import { isInfrastructureError } from "./infrastructure-error.js";
import { type ProjectionLease, type ProjectionLeaseKeeper, projectionLeaseKey } from "./lease.js";
import { PositionWaiters } from "./position-waiters.js";
import { decodeRecord, isUndecodable } from "./projected-evt.js";
import type { ProjectionHandler } from "./projection-handler.js";
import { type ProjectionOptions, validateProjectionOptions } from "./projection-options.js";
import type { DeadLetter } from "./projection-store.js";

/**
 * What an instance is doing. `starting`: claiming its checkpoint; `standby`: waiting for the lease (another instance runs the projection);
 * `paused`: the stored status says so (any instance that takes over stays paused); `failed`: a poison event
 * stopped it (outcome `"stop"`; `resume()` retries) or it was fenced (final).
 */
export type ProjectionState = "idle" | "starting" | "standby" | "running" | "paused" | "failed" | "stopped";

/** A snapshot of {@link Projection.status}. */
export interface ProjectionStatus {
  readonly state: ProjectionState;
  /** Why it failed; while running, the infrastructure failure it is retrying, if any. */
  readonly error?: Error | undefined;
  /** Position of the last event applied. */
  readonly position: number;
  /** Position stored as the checkpoint (behind `position` in at-least-once mode until the next save). */
  readonly storedPosition: number;
  /** Lease epoch this instance runs under (0 without a lease). */
  readonly epoch: number;
}

/** How far behind the log a projection is, both sides measured by the log. */
export interface ProjectionLag {
  /**
   * Head position − applied position, in the log's position units: events on the in-memory log, an upper
   * bound on events on PostgreSQL (other types share the sequence), and on NATS 65,536 per stream message.
   */
  readonly events: number;
  /** recordedAt of the head − recordedAt of the last applied event; undefined before the first event. */
  readonly ms: number | undefined;
  readonly headPosition: number;
  readonly position: number;
}

class LeaseLostError extends Error {}

interface Maintenance {
  run(): Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * A durable, resumable read model: reads one entity type's events from its checkpoint, live, decodes them
 * with the entity's binarizer and applies them in batches through its handler (`exactlyOnce` on PostgreSQL,
 * or `atLeastOnce`). See the package README.
 * @example
 * const totals = Projection.create({ name: "counter-totals", evtLog, type: "counter", binarizer, handler });
 * totals.start();
 * await totals.waitFor(result.position); // read your writes
 * await totals.stop();
 */
export class Projection<E> {
  readonly name: string;
  readonly type: string;
  readonly #options: ProjectionOptions<E>;
  readonly #handler: ProjectionHandler<E>;
  readonly #logger: Logger;
  readonly #keeper: ProjectionLeaseKeeper | undefined;
  /** The current tenure, and a signal aborted when it ends. */
  #lease: { readonly tenure: ProjectionLease; readonly lost: AbortSignal } | undefined;
  readonly #stats: ProcessorStats = emptyStats();
  readonly #waiters = new PositionWaiters();
  #state: ProjectionState = "idle";
  #error: Error | undefined;
  #applied = 0;
  #lastEventAt: Date | undefined;
  #epoch = 0;
  #loop: Promise<void> | undefined;
  #stopping: AbortController | undefined;
  /** Ends the current read at the next batch boundary (pause, maintenance, a status change elsewhere). */
  #interrupt = new AbortController();
  #wake = new AbortController();
  #maintenance: Maintenance[] = [];

  private constructor(options: ProjectionOptions<E>) {
    this.name = options.name;
    this.type = options.type;
    this.#options = options;
    this.#handler = options.handler;
    this.#logger = options.logger ?? consoleLogger;
    this.#keeper = options.lease;
  }

  /** Validates the options; nothing runs until {@link start}. */
  static create<E>(options: ProjectionOptions<E>): Projection<E> {
    validateProjectionOptions(options);
    return new Projection(options);
  }

  /** Where the instance is; see {@link ProjectionState}. */
  get status(): ProjectionStatus {
    return {
      state: this.#state,
      error: this.#error,
      position: this.#applied,
      storedPosition: this.#handler.storedPosition,
      epoch: this.#epoch,
    };
  }

  /** Counters: batches, events, transactions, handler failures, bisections, dead letters, skips. */
  get stats(): Readonly<ProcessorStats> {
    return { ...this.#stats };
  }

  /** `exactly-once` or `at-least-once`, from the handler. */
  get guarantee(): "exactly-once" | "at-least-once" {
    return this.#handler.guarantee;
  }

  /**
   * Starts the instance in the background: it acquires the lease (if configured), claims the checkpoint and
   * tails the log. Infrastructure failures are retried forever; `status` tells where it is.
   */
  start(): void {
    if (this.#loop !== undefined) return;
    this.#stopping = new AbortController();
    this.#setState("starting");
    const signal = this.#stopping.signal;
    this.#loop = this.#run(signal).finally(() => {
      this.#loop = undefined;
    });
  }

  /**
   * Stops after the batch in progress (its checkpoint saved), releases the lease and resolves once idle.
   * Callers of `waitFor` still waiting get `ProjectionStoppedError`.
   */
  async stop(): Promise<void> {
    this.#stopping?.abort();
    await this.#loop;
  }

  /** Pauses every instance: persisted, so an instance that takes over stays paused until {@link resume}. */
  async pause(): Promise<void> {
    await this.#handler.store.setStatus(this.name, "paused");
    this.#interrupt.abort();
  }

  /** Resumes after a pause, or retries the event that stopped a `failed` projection. */
  async resume(): Promise<void> {
    await this.#handler.store.setStatus(this.name, "running");
    this.#error = undefined;
    this.#wake.abort();
  }

  /**
   * Moves the checkpoint to `position` and goes on from there (a replay from a known point). Dead letters
   * after it are dropped: their events will be seen again. Runs on the active instance, between batches.
   */
  reset(position: number): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) {
      return Promise.reject(new ConfigurationError(`invalid position ${position}`, "position", "reset"));
    }
    return this.#maintain(() => this.#handler.store.reset(this.name, position));
  }

  /**
   * Rebuilds in place: the handler's `reset` and checkpoint 0 (in one transaction with `exactlyOnce`), then
   * the whole log again. For a rebuild without read downtime, see `blueGreen`.
   */
  rebuild(): Promise<void> {
    return this.#maintain(() => this.#handler.rebuild());
  }

  /** The dead letters, in position order. */
  deadLetters(): Promise<DeadLetter[]> {
    return this.#handler.store.deadLetters(this.name);
  }

  /** Deletes a dead letter without applying it; false when there was none at `position`. */
  deleteDeadLetter(position: number): Promise<boolean> {
    return this.#handler.store.deleteDeadLetter(this.name, position);
  }

  /**
   * Applies the dead-lettered event at `position` again (after the handler was fixed) and deletes its dead
   * letter; atomically with `exactlyOnce`. Rejects with the handler's error (the dead letter stays).
   */
  redrive(position: number): Promise<void> {
    return this.#maintain(async () => {
      const letter = (await this.#handler.store.deadLetters(this.name)).find((l) => l.position === position);
      if (letter === undefined)
        throw new ConfigurationError(`no dead letter at position ${position}`, "position", "redrive");
      const record: TypedEvtRecord = { ...letter };
      const decoded = decodeRecord(record, this.#options.binarizer);
      if (isUndecodable(decoded)) throw decoded.error;
      await this.#handler.redrive(decoded, letter);
    });
  }

  /**
   * Resolves once the projection has applied everything up to `position` (e.g. the `position` of a command
   * result: read your writes). Rejects with `ProjectionStoppedError` when it stops or fails first.
   */
  waitFor(position: number, signal?: AbortSignal): Promise<void> {
    if (this.#applied >= position) return Promise.resolve();
    if (this.#state === "idle" || this.#state === "stopped" || this.#state === "failed") {
      return Promise.reject(new ProjectionStoppedError(this.name, { cause: this.#error }));
    }
    return this.#waiters.wait(position, this.#applied, signal);
  }

  /** Resolves once the checkpoint reaches the log's head for the type as of this call. */
  async whenCaughtUp(signal?: AbortSignal): Promise<void> {
    const head = await this.#head();
    if (head !== undefined) await this.waitFor(head.position, signal);
  }

  /** The lag behind the log's head for the type (one head lookup). */
  async lag(): Promise<ProjectionLag> {
    const head = await this.#head();
    const position = this.#applied;
    if (head === undefined || head.position <= position) {
      return { events: 0, ms: 0, headPosition: head?.position ?? 0, position };
    }
    const last = this.#lastEventAt;
    return {
      events: head.position - position,
      ms: last === undefined ? undefined : Math.max(0, head.recordedAt.getTime() - last.getTime()),
      headPosition: head.position,
      position,
    };
  }

  async #head() {
    const { evtLog } = this.#options;
    if (evtLog.headOfType === undefined) {
      throw new ConfigurationError(
        "the event log does not report the head of a type (headOfType)",
        "evtLog",
        "Projection",
      );
    }
    return evtLog.headOfType(this.type);
  }

  #maintain(run: () => Promise<void>): Promise<void> {
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

  #setState(state: ProjectionState, error?: Error): void {
    this.#state = state;
    this.#error = error;
    if (state === "failed" || state === "stopped") {
      this.#waiters.failAll(new ProjectionStoppedError(this.name, { cause: error }));
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
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
      this.#stats,
    );
    let fenced = false;
    try {
      while (!signal.aborted) {
        if (this.#keeper !== undefined && this.#lease?.tenure.isValid() !== true) {
          this.#setState("standby");
          if (!(await this.#acquireLease(this.#keeper, signal, backoff))) break;
        }
        try {
          await this.#runClaimed(processor, signal);
          backoff.reset();
        } catch (err) {
          this.#handler.end();
          if (isEventSourcedError(err, "PROJECTION_FENCED")) {
            fenced = true;
            this.#logger.error("projection fenced: another instance owns it; stopping", {
              projection: this.name,
              error: describe(err),
            });
            this.#setState("failed", err);
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
      if (!fenced) this.#setState("stopped");
    }
  }

  /** Waits for the lease (false when stopped first); failures of the keeper are retried with backoff. */
  async #acquireLease(
    keeper: ProjectionLeaseKeeper,
    signal: AbortSignal,
    backoff: Backoff,
  ): Promise<boolean> {
    while (!signal.aborted) {
      try {
        const tenure = await keeper.acquire(projectionLeaseKey(this.name), { signal });
        const lost = new AbortController();
        void tenure.whenEnded.then(() => lost.abort());
        this.#lease = { tenure, lost: lost.signal };
        return true;
      } catch (err) {
        if (signal.aborted) return false;
        this.#logger.warn("projection cannot acquire its lease; retrying", {
          projection: this.name,
          error: describe(err),
        });
        await delay(backoff.next(), signal);
      }
    }
    return false;
  }

  /** Claims the checkpoint under the current lease epoch and works until interrupted. */
  async #runClaimed(processor: BatchProcessor<E>, signal: AbortSignal): Promise<void> {
    const epoch = this.#lease?.tenure.epoch ?? 0;
    const row = await this.#handler.store.claim(this.name, this.type, epoch);
    this.#epoch = epoch;
    this.#handler.begin({ name: this.name, epoch, position: row.position });
    this.#applied = row.position;
    this.#lastEventAt = row.lastEventAt;
    this.#waiters.advance(row.position);
    if (this.#maintenance.length > 0) {
      await this.#runMaintenance();
      return;
    }
    if (row.status !== "running") {
      // A failure recorded by this instance keeps its typed error; one recorded elsewhere is known by its text.
      const failure = row.status === "failed" ? (this.#error ?? new Error(row.error ?? "failed")) : undefined;
      this.#setState(row.status, failure);
      await this.#awaitResume(signal);
      return;
    }
    this.#setState("running");
    await this.#consume(processor, signal);
    await this.#handler.flush();
  }

  async #consume(processor: BatchProcessor<E>, signal: AbortSignal): Promise<void> {
    this.#interrupt = new AbortController();
    const interrupt = this.#interrupt;
    const lost = this.#lease?.lost;
    const read = AbortSignal.any(
      lost === undefined ? [signal, interrupt.signal] : [signal, interrupt.signal, lost],
    );
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
        maxEvents: this.#options.batch?.maxEvents ?? 500,
        maxWaitMs: this.#options.batch?.maxWaitMs ?? 20,
      };
      const { binarizer } = this.#options;
      for await (const batch of batches(records, limits)) {
        // A stale owner must not hand anything to the handler (side effects in at-least-once mode).
        if (this.#lease !== undefined && !this.#lease.tenure.isValid()) throw new LeaseLostError();
        await processor.process(batch.map((record) => decodeRecord(record, binarizer)));
        const last = batch.at(-1)!;
        this.#applied = last.position;
        this.#lastEventAt = last.recordedAt;
        if (this.#error !== undefined) this.#error = undefined;
        this.#waiters.advance(last.position);
        if (read.aborted) break;
      }
    } finally {
      clearInterval(poll);
    }
    if (lost?.aborted) throw new LeaseLostError();
  }

  async #checkStoredStatus(interrupt: AbortController): Promise<void> {
    try {
      const row = await this.#handler.store.load(this.name);
      if (row !== undefined && row.status !== "running") interrupt.abort();
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
      const wait = AbortSignal.any(
        lost === undefined ? [signal, this.#wake.signal] : [signal, this.#wake.signal, lost],
      );
      await delay(this.#options.statusPollMs ?? 1_000, wait);
      if (signal.aborted || lost?.aborted || this.#maintenance.length > 0) return;
      try {
        const row = await this.#handler.store.load(this.name);
        if (row?.status === "running") return;
      } catch {
        // Checked again after the next interval.
      }
    }
  }

  async #runMaintenance(): Promise<void> {
    for (const m of this.#maintenance.splice(0)) {
      try {
        await m.run();
        m.resolve();
      } catch (err) {
        m.reject(err);
      }
    }
  }

  /** A poison event stopped the projection: persist `failed` with the reason (retrying the store as needed). */
  async #recordFailure(err: Error, signal: AbortSignal, backoff: Backoff): Promise<void> {
    this.#logger.error("projection stopped by a poison event", {
      projection: this.name,
      error: describe(err),
    });
    this.#setState("failed", err);
    while (!signal.aborted) {
      try {
        await this.#handler.store.setStatus(this.name, "failed", describe(err));
        return;
      } catch (storeErr) {
        this.#logger.warn("cannot record the projection's failure; retrying", {
          projection: this.name,
          error: describe(storeErr),
        });
        await delay(backoff.next(), signal);
      }
    }
  }
}
