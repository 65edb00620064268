// Errors of writing events: conflicts with other writers, failed or unowned writes, encoding.
import { ErrorCode, EventSourcedError } from "./base.js";

/**
 * An EvtLog refused a persist because the entity's last seqNo was not the expected one: another writer
 * (usually another process) appended first. Nothing of the refused persist was written.
 */
export class SeqNoConflictError extends EventSourcedError {
  static override readonly code: string = ErrorCode.SeqNoConflict;
  declare readonly code: typeof ErrorCode.SeqNoConflict;
  constructor(
    readonly type: string,
    readonly id: string,
    readonly expectedLastSeqNo: number,
    options?: { cause?: unknown; actualLastSeqNo?: number },
  ) {
    super(
      ErrorCode.SeqNoConflict,
      `seqNo conflict for ${type}/${JSON.stringify(id)}: expected last seqNo ${expectedLastSeqNo}` +
        (options?.actualLastSeqNo === undefined ? "" : `, found ${options.actualLastSeqNo}`),
      options,
    );
    this.actualLastSeqNo = options?.actualLastSeqNo;
  }

  /** The last seqNo the log actually had, when the adapter knows it. */
  readonly actualLastSeqNo: number | undefined;
}

/** A command kept conflicting with another writer after the configured number of re-runs on fresh state. */
export class ConcurrencyConflictError extends EventSourcedError {
  static override readonly code: string = ErrorCode.ConcurrencyConflict;
  declare readonly code: typeof ErrorCode.ConcurrencyConflict;
  constructor(
    readonly type: string,
    readonly id: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(
      ErrorCode.ConcurrencyConflict,
      `${type}/${JSON.stringify(id)}: command still conflicted with another writer after ${attempts} attempts`,
      options,
    );
  }
}

/**
 * Persisting events failed. When `outcomeUnknown` is true the write may have happened (for example the
 * connection dropped after the write was sent); the entity re-reads the log before its next command, so its
 * state always follows the log's truth.
 */
export class PersistError extends EventSourcedError {
  static override readonly code: string = ErrorCode.Persist;
  declare readonly code: typeof ErrorCode.Persist;
  constructor(
    message: string,
    readonly outcomeUnknown: boolean,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Persist, message, options);
  }
}

/** The binarizer could not encode an event of a command; nothing was written. `index` counts from 0. */
export class EncodeError extends EventSourcedError {
  static override readonly code: string = ErrorCode.Encode;
  declare readonly code: typeof ErrorCode.Encode;
  constructor(
    readonly type: string,
    readonly id: string,
    readonly index: number,
    options?: { cause?: unknown },
  ) {
    super(
      ErrorCode.Encode,
      `cannot encode event ${index} of the command for ${type}/${JSON.stringify(id)}; nothing was persisted` +
        (options?.cause instanceof Error ? `: ${options.cause.message}` : ""),
      options,
    );
  }
}

/**
 * A write was refused because this process no longer owns the entity: its lease (e.g. the cluster's shard
 * lease) expired or was taken over under a newer epoch. Nothing was written. The runtime never re-runs a
 * command after it (a stale owner re-running on fresh state would succeed where it must not); the entity
 * should be passivated and the command routed to the current owner.
 */
export class OwnershipLostError extends EventSourcedError {
  static override readonly code: string = ErrorCode.OwnershipLost;
  declare readonly code: typeof ErrorCode.OwnershipLost;
  constructor(
    readonly type: string,
    readonly id: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.OwnershipLost, `${type}/${JSON.stringify(id)}: ${message}`, options);
  }
}
