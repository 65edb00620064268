import {
  ConfigurationError,
  consoleLogger,
  guardInstrumentation,
  warnOnHookFailure,
} from "@eventsourced/core";
import type { ProcessorStats } from "./batch-processor.js";
import { redriveDeadLetter } from "./operator-requests.js";
import type { ProjectionHandler } from "./projection-handler.js";
import { type ProjectionOptions, validateProjectionOptions } from "./projection-options.js";
import { ProjectionRuntime } from "./projection-runtime.js";
import type { ProjectionLag, ProjectionStatus } from "./projection-status.js";
import type { DeadLetter } from "./projection-store.js";

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
  readonly #runtime: ProjectionRuntime<E>;
  #loop: Promise<void> | undefined;
  #stopping: AbortController | undefined;

  private constructor(options: ProjectionOptions<E>) {
    this.name = options.name;
    this.type = options.type;
    this.#options = options;
    this.#handler = options.handler;
    this.#runtime = new ProjectionRuntime(options);
  }

  /** Validates the options; nothing runs until {@link start}. */
  static create<E>(options: ProjectionOptions<E>): Projection<E> {
    validateProjectionOptions(options);
    const { instrumentation } = options;
    // A hook that throws must not fail a batch that was applied, or stop the projection.
    return new Projection(
      instrumentation === undefined
        ? options
        : {
            ...options,
            instrumentation: guardInstrumentation(
              instrumentation,
              warnOnHookFailure(options.logger ?? consoleLogger),
            ),
          },
    );
  }

  /** Where the instance is; see {@link ProjectionState}. */
  get status(): ProjectionStatus {
    return this.#runtime.status;
  }

  /** Counters: batches, events, transactions, handler failures, bisections, dead letters, skips. */
  get stats(): Readonly<ProcessorStats> {
    return { ...this.#runtime.stats };
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
    this.#runtime.setState("starting");
    const signal = this.#stopping.signal;
    this.#loop = this.#runtime.run(signal).finally(() => {
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
    this.#runtime.interrupt();
  }

  /** Resumes after a pause, or retries the event that stopped a `failed` projection. */
  async resume(): Promise<void> {
    await this.#handler.store.setStatus(this.name, "running");
    this.#runtime.resumed();
  }

  /**
   * Moves the checkpoint to `position` and goes on from there (a replay from a known point). Dead letters
   * after it are dropped: their events will be seen again. Runs on the active instance, between batches.
   * Rejects with `ConfigurationError` (key `position`) unless `position` is an integer from 0 to the head
   * of the type (when the log reports it).
   */
  reset(position: number): Promise<void> {
    const invalid = invalidPosition(position, "reset");
    if (invalid !== undefined) return Promise.reject(invalid);
    return this.#runtime.maintain(async () => {
      // A checkpoint beyond the head would silently skip the events written up to it later.
      if (this.#options.evtLog.headOfType !== undefined) {
        const headPosition = (await this.#head())?.position ?? 0;
        if (position > headPosition) {
          throw new ConfigurationError(
            `invalid position ${position}: beyond the head of type ${this.type} (${headPosition}); later events would be skipped`,
            "position",
            "reset",
          );
        }
      }
      await this.#handler.store.reset(this.name, position);
    });
  }

  /**
   * Rebuilds in place: the handler's `reset` and checkpoint 0 (in one transaction with `exactlyOnce`), then
   * the whole log again. For a rebuild without read downtime, see `blueGreen`.
   */
  rebuild(): Promise<void> {
    return this.#runtime.maintain(() => this.#handler.rebuild());
  }

  /** The dead letters, in position order. */
  deadLetters(): Promise<DeadLetter[]> {
    return this.#handler.store.deadLetters(this.name);
  }

  /**
   * Deletes a dead letter without applying it; false when there was none at `position`. Rejects with
   * `ConfigurationError` (key `position`) unless `position` is an integer >= 0.
   */
  deleteDeadLetter(position: number): Promise<boolean> {
    const invalid = invalidPosition(position, "deleteDeadLetter");
    if (invalid !== undefined) return Promise.reject(invalid);
    return this.#handler.store.deleteDeadLetter(this.name, position);
  }

  /**
   * Applies the dead-lettered event at `position` again (after the handler was fixed) and deletes its dead
   * letter; atomically with `exactlyOnce`. Rejects with the handler's error (the dead letter stays), and with
   * `ConfigurationError` (key `position`) when `position` is not an integer >= 0 or has no dead letter.
   */
  redrive(position: number): Promise<void> {
    const invalid = invalidPosition(position, "redrive");
    if (invalid !== undefined) return Promise.reject(invalid);
    return this.#runtime.maintain(async () => {
      if (!(await redriveDeadLetter(this.name, this.#handler, this.#options.binarizer, position)))
        throw new ConfigurationError(`no dead letter at position ${position}`, "position", "redrive");
    });
  }

  /**
   * Resolves once the projection has applied everything up to `position` (e.g. the `position` of a command
   * result: read your writes). Rejects with `ProjectionStoppedError` when it stops or fails first, and at
   * once with `ConfigurationError` (key `position` or `signal`) unless `position` is an integer >= 0 and
   * `signal` an `AbortSignal` (a `NaN` would otherwise wait forever). A position beyond the head waits.
   */
  waitFor(position: number, signal?: AbortSignal): Promise<void> {
    const invalid = invalidPosition(position, "waitFor");
    if (invalid !== undefined) return Promise.reject(invalid);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(new ConfigurationError("signal must be an AbortSignal", "signal", "waitFor"));
    }
    return this.#runtime.waitFor(position, signal);
  }

  /** Resolves once the checkpoint reaches the log's head for the type as of this call. */
  async whenCaughtUp(signal?: AbortSignal): Promise<void> {
    const head = await this.#head();
    if (head !== undefined) await this.waitFor(head.position, signal);
  }

  /**
   * The lag behind the log's head for the type (one head lookup). Before this instance claimed the checkpoint
   * (starting, or standby behind another instance) it is the stored checkpoint's lag (one more read).
   */
  async lag(): Promise<ProjectionLag> {
    const head = await this.#head();
    const { position, recordedAt: last } = this.#runtime.claimed
      ? this.#runtime.applied
      : await this.#stored();
    if (head === undefined || head.position <= position) {
      return { events: 0, ms: 0, headPosition: head?.position ?? 0, position };
    }
    return {
      events: head.position - position,
      ms: last === undefined ? undefined : Math.max(0, head.recordedAt.getTime() - last.getTime()),
      headPosition: head.position,
      position,
    };
  }

  async #stored(): Promise<{ readonly position: number; readonly recordedAt: Date | undefined }> {
    const row = await this.#handler.store.load(this.name);
    return { position: row?.position ?? 0, recordedAt: row?.lastEventAt };
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
}

/** The error for a position that is not a safe integer >= 0, named after the call; undefined when valid. */
function invalidPosition(position: unknown, call: string): ConfigurationError | undefined {
  if (Number.isSafeInteger(position) && (position as number) >= 0) return undefined;
  return new ConfigurationError(`invalid position ${String(position)}: an integer >= 0`, "position", call);
}
