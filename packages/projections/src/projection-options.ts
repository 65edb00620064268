import {
  Backoff,
  type BackoffOptions,
  ConfigurationError,
  type EvtLog,
  type Instrumentation,
  type Logger,
  TYPE_NAME_PATTERN,
} from "@eventsourced/core";
import type { OnHandlerError } from "./batch-processor.js";
import type { ProjectionLeaseKeeper } from "./lease.js";
import type { EvtDecoder } from "./projected-evt.js";
import type { ProjectionHandler } from "./projection-handler.js";

/** Options of `Projection.create`. */
export interface ProjectionOptions<E> {
  /**
   * Unique name: the key of its checkpoint, lease and dead letters. Letters, digits, `_` and `-` (so it is a
   * valid NATS KV key), at most 100 characters. A new version of a projection gets a new name
   * (`counter-totals-v2`), which is how blue-green rebuilds run beside the old one.
   */
  readonly name: string;
  /** The log to read. */
  readonly evtLog: EvtLog;
  /** The entity type whose events it reads (`typeName` of the definition). */
  readonly type: string;
  /** The entity's binarizer (or anything with `evtFromBytes`). */
  readonly binarizer: EvtDecoder<E>;
  /** How batches are applied and the checkpoint kept: `exactlyOnce(...)` or `atLeastOnce(...)`. */
  readonly handler: ProjectionHandler<E>;
  /**
   * Batches close at `maxEvents` (default 2,000; an integer from 1 to {@link MAX_BATCH_EVENTS}) or `maxWaitMs`
   * after their first event (default 20 ms; at most 2^31 - 1, the longest timer).
   */
  readonly batch?:
    | { readonly maxEvents?: number | undefined; readonly maxWaitMs?: number | undefined }
    | undefined;
  /** Retries, bisection and the poison event's outcome. */
  readonly onError?: OnHandlerError | undefined;
  /** Backoff between restarts after infrastructure failures (retried forever). Default 100 ms to 10 s. */
  readonly retryBackoff?: BackoffOptions | undefined;
  /**
   * Tells infrastructure failures (retried forever, never dead-lettered) from handler failures. Default
   * `isInfrastructureError`: SQLSTATE classes 08, 40, 53, 57, socket errors, NATS timeouts and the log's
   * connection and read errors.
   */
  readonly isInfrastructureError?: ((err: unknown) => boolean) | undefined;
  /**
   * One active instance across processes: a `LeaseKeeper` of `@eventsourced/leases` (key
   * `projection.<name>`). Standby instances wait for the lease; the epoch of each tenure fences the checkpoint.
   * Without it, run one instance yourself (a second one is fenced at its first compare-and-set).
   */
  readonly lease?: ProjectionLeaseKeeper | undefined;
  /**
   * How often the stored status is checked for a pause or resume by another process. Default 1,000 ms; at
   * most 2^31 - 1.
   */
  readonly statusPollMs?: number | undefined;
  /** Default `consoleLogger`. */
  readonly logger?: Logger | undefined;
  /**
   * Told of every batch (`Instrumentation.projectionBatchStarted`: its records, position and age) and of a
   * checkpoint write fenced off by a newer instance (`Instrumentation.lease`, event `"fenced"`). Default none.
   */
  readonly instrumentation?: Instrumentation | undefined;
}

/**
 * Default `batch.maxEvents`. Each batch is one transaction (exactly-once) with a checkpoint write and a commit
 * (a WAL flush): 2,000 rather than 500 quarters those per event while catching up, which took an upsert
 * projection from about 12,700 to 18,900 events/s on PostgreSQL in the same run (ADR 0037). A caught-up
 * projection's batches stay small: they close `maxWaitMs` after their first event.
 */
export const DEFAULT_MAX_EVENTS = 2_000;

/** Projection names: usable as a PostgreSQL key, a NATS KV key and a lease key alike. */
export const PROJECTION_NAME_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** The largest `batch.maxEvents`: a batch is held in memory whole. */
export const MAX_BATCH_EVENTS = 1_000_000;

// setTimeout cannot wait longer (a longer delay fires at once).
const MAX_TIMER_MS = 2 ** 31 - 1;

function invalid(message: string, key: string): ConfigurationError {
  return new ConfigurationError(message, key, "ProjectionOptions");
}

/**
 * Validates the options before anything runs: `ConfigurationError` (code `CONFIGURATION_INVALID`) whose
 * `key` names the option. The loop in the background never meets an option it cannot use.
 */
export function validateProjectionOptions<E>(options: ProjectionOptions<E>): void {
  if (typeof options !== "object" || options === null) {
    throw invalid(`projection options must be an object, got ${String(options)}`, "options");
  }
  if (typeof options.name !== "string" || !PROJECTION_NAME_PATTERN.test(options.name)) {
    throw new ConfigurationError(
      `invalid projection name ${JSON.stringify(options.name)}: must match ${PROJECTION_NAME_PATTERN}`,
      "name",
      "ProjectionOptions",
    );
  }
  if (typeof options.type !== "string" || !TYPE_NAME_PATTERN.test(options.type)) {
    throw new ConfigurationError(
      `invalid entity type ${JSON.stringify(options.type)}`,
      "type",
      "ProjectionOptions",
    );
  }
  const { evtLog, binarizer, handler, isInfrastructureError } = options;
  if (typeof evtLog !== "object" || evtLog === null || typeof evtLog.evtsByType !== "function") {
    throw invalid("evtLog must be an EvtLog", "evtLog");
  }
  if (typeof binarizer?.evtFromBytes !== "function") {
    throw invalid("binarizer must have an evtFromBytes method", "binarizer");
  }
  if (typeof handler?.apply !== "function" || typeof handler.store !== "object") {
    throw invalid("handler must be a ProjectionHandler (exactlyOnce(...) or atLeastOnce(...))", "handler");
  }
  if (isInfrastructureError !== undefined && typeof isInfrastructureError !== "function") {
    throw invalid("isInfrastructureError must be a function", "isInfrastructureError");
  }
  const maxEvents = options.batch?.maxEvents;
  if (
    maxEvents !== undefined &&
    !(Number.isInteger(maxEvents) && maxEvents >= 1 && maxEvents <= MAX_BATCH_EVENTS)
  ) {
    throw invalid(
      `invalid batch.maxEvents ${maxEvents}: an integer from 1 to ${MAX_BATCH_EVENTS}`,
      "batch.maxEvents",
    );
  }
  positive(options.batch?.maxWaitMs, "batch.maxWaitMs");
  positive(options.statusPollMs, "statusPollMs");
  backoff(options.retryBackoff, "retryBackoff");
  backoff(options.onError?.backoff, "onError.backoff");
  const retries = options.onError?.retries;
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) {
    throw new ConfigurationError(
      `invalid onError.retries ${retries}: an integer >= 0`,
      "onError.retries",
      "ProjectionOptions",
    );
  }
  const exhausted = options.onError?.exhausted;
  if (exhausted !== undefined && !["dead-letter", "skip", "stop"].includes(exhausted)) {
    throw new ConfigurationError(
      `invalid onError.exhausted ${JSON.stringify(exhausted)}: "dead-letter", "skip" or "stop"`,
      "onError.exhausted",
      "ProjectionOptions",
    );
  }
}

function positive(value: number | undefined, key: string): void {
  if (value !== undefined && !(typeof value === "number" && value > 0 && value <= MAX_TIMER_MS)) {
    throw invalid(`invalid ${key} ${value}: a positive number of milliseconds, at most ${MAX_TIMER_MS}`, key);
  }
}

function backoff(options: BackoffOptions | undefined, key: string): void {
  if (options === undefined) return;
  try {
    new Backoff(options);
  } catch (cause) {
    throw new ConfigurationError(`invalid ${key}: ${(cause as Error).message}`, key, "ProjectionOptions", {
      cause,
    });
  }
}
