import type { TypedEvtRecord } from "../evt-log.js";

/** A projection hands a batch to its handler (see `Instrumentation.projectionBatchStarted`). */
export interface ProjectionBatchStart {
  /** The projection's name. */
  readonly name: string;
  /** The entity type it reads. */
  readonly type: string;
  /**
   * The batch's records, in position order: their `metadata.headers` carry the trace context of the
   * commands that produced them. Do not keep them beyond the call.
   */
  readonly records: readonly TypedEvtRecord[];
  /** The position of the batch's last event: the checkpoint once it is applied. */
  readonly position: number;
  /** Milliseconds from the log's `recordedAt` of the batch's last event to now (its age when applied). */
  readonly lagMs: number;
  /** `performance.now()` when the batch was handed over. */
  readonly startedAt: number;
}

/** The end of a projection batch. */
export interface ProjectionBatchEnd {
  /** True when the batch was applied (after retries or bisection); false when the projection stopped or restarts. */
  readonly ok: boolean;
  readonly durationMs: number;
  /** Why it did not complete. */
  readonly error?: unknown;
}

/** Follows one projection batch (returned by `Instrumentation.projectionBatchStarted`). */
export interface ProjectionBatchObserver {
  /** Called exactly once. */
  ended(end: ProjectionBatchEnd): void;
}
