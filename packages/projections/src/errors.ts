import { EventSourcedError } from "@eventsourced/core";

/**
 * The projection's checkpoint moved under this instance: its compare-and-set on the previous position and
 * lease epoch matched no row, so another instance owns the projection (or an operator reset it). The
 * batch was rolled back and this instance stopped; it never retries, since retrying would fight the owner.
 */
export class ProjectionFencedError extends EventSourcedError {
  static override readonly code: string = "PROJECTION_FENCED";
  declare readonly code: "PROJECTION_FENCED";
  constructor(
    readonly projection: string,
    readonly expectedPosition: number,
    readonly epoch: number,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(
      "PROJECTION_FENCED",
      `projection ${JSON.stringify(projection)}: the checkpoint is no longer at position ${expectedPosition} under epoch ${epoch}` +
        (options?.detail === undefined ? "" : ` (${options.detail})`) +
        "; another instance owns it, so this one stopped without writing",
      options,
    );
  }
}

/**
 * A poison event stopped the projection (outcome `"stop"`): its handler kept failing on it after the retries
 * and bisection, or it could not be decoded. The checkpoint stays before it; `resume()` tries it again.
 */
export class PoisonEventError extends EventSourcedError {
  static override readonly code: string = "POISON_EVENT";
  declare readonly code: "POISON_EVENT";
  constructor(
    readonly projection: string,
    readonly position: number,
    readonly id: string,
    readonly seqNo: number,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(
      "POISON_EVENT",
      `projection ${JSON.stringify(projection)} stopped at the event at position ${position} (${JSON.stringify(id)} seqNo ${seqNo}) after ${attempts} attempts` +
        (options?.cause instanceof Error ? `: ${options.cause.message}` : ""),
      options,
    );
  }
}

/** The projection stopped (or failed) while a caller waited for it to reach a position. */
export class ProjectionStoppedError extends EventSourcedError {
  static override readonly code: string = "PROJECTION_STOPPED";
  declare readonly code: "PROJECTION_STOPPED";
  constructor(
    readonly projection: string,
    options?: { cause?: unknown },
  ) {
    super(
      "PROJECTION_STOPPED",
      `projection ${JSON.stringify(projection)} is not running` +
        (options?.cause instanceof Error ? `: ${options.cause.message}` : ""),
      options,
    );
  }
}

/**
 * An inline projection's handler failed or rejected the events of one persist: that persist was not written
 * (the other persists of its group-commit batch were). `cause` is what the handler threw, e.g. a unique
 * violation of the read model.
 */
export class InlineProjectionRejectedError extends EventSourcedError {
  static override readonly code: string = "INLINE_PROJECTION_REJECTED";
  declare readonly code: "INLINE_PROJECTION_REJECTED";
  constructor(
    readonly projection: string,
    readonly type: string,
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(
      "INLINE_PROJECTION_REJECTED",
      `inline projection ${JSON.stringify(projection)} rejected the events of ${type}/${JSON.stringify(id)}; nothing was persisted` +
        (options?.cause instanceof Error ? `: ${options.cause.message}` : ""),
      options,
    );
  }
}

/**
 * An at-least-once handler applied a batch, but saving its checkpoint failed: a failure of the projection
 * store, not of the handler or the events. The projection restarts from its last saved checkpoint with
 * backoff, as after a lost connection (the batch is handled again: at-least-once), and never dead-letters,
 * skips or stops on an event because of it. `cause` is what the store threw.
 */
export class CheckpointSaveError extends EventSourcedError {
  static override readonly code: string = "CHECKPOINT_SAVE_FAILED";
  declare readonly code: "CHECKPOINT_SAVE_FAILED";
  constructor(
    readonly projection: string,
    readonly position: number,
    options?: { cause?: unknown },
  ) {
    super(
      "CHECKPOINT_SAVE_FAILED",
      `projection ${JSON.stringify(projection)}: saving the checkpoint at position ${position} failed` +
        (options?.cause instanceof Error ? `: ${options.cause.message}` : ""),
      options,
    );
  }
}

declare module "@eventsourced/core" {
  interface ErrorByCode {
    CHECKPOINT_SAVE_FAILED: CheckpointSaveError;
    PROJECTION_FENCED: ProjectionFencedError;
    POISON_EVENT: PoisonEventError;
    PROJECTION_STOPPED: ProjectionStoppedError;
    INLINE_PROJECTION_REJECTED: InlineProjectionRejectedError;
  }
}
