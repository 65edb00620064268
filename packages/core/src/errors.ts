/**
 * Stable error codes. Match on `err.code` (or use {@link isEventSourcedError}) rather than on messages,
 * which may be reworded.
 */
export const ErrorCode = {
  SeqNoConflict: "SEQNO_CONFLICT",
  ConcurrencyConflict: "CONCURRENCY_CONFLICT",
  Persist: "PERSIST_FAILED",
  Read: "READ_FAILED",
  Connection: "CONNECTION_FAILED",
  Decode: "DECODE_FAILED",
  SnapshotAheadOfLog: "SNAPSHOT_AHEAD_OF_LOG",
  Recovery: "RECOVERY_FAILED",
  EntityStopped: "ENTITY_STOPPED",
  InvalidArgument: "INVALID_ARGUMENT",
  Configuration: "CONFIGURATION_INVALID",
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error thrown by eventsourced; `code` is stable, `cause` holds the underlying error. */
export class EventSourcedError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * An EvtLog refused a persist because the entity's last seqNo was not the expected one: another writer
 * (usually another process) appended first. Nothing of the refused persist was written.
 */
export class SeqNoConflictError extends EventSourcedError {
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
  constructor(
    message: string,
    readonly outcomeUnknown: boolean,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Persist, message, options);
  }
}

/** Reading from an EvtLog or SnapshotStore failed. */
export class ReadError extends EventSourcedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Read, message, options);
  }
}

/**
 * A server could not be reached or refused the credentials. `target` names it (host, port, database or URL)
 * and never contains a password.
 */
export class ConnectionError extends EventSourcedError {
  constructor(
    message: string,
    readonly target: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Connection, message, options);
  }
}

/** Bytes from the log or the snapshot store could not be decoded. */
export class DecodeError extends EventSourcedError {
  constructor(
    readonly what: "event" | "snapshot",
    readonly type: string,
    readonly id: string,
    readonly seqNo: number,
    options?: { cause?: unknown },
  ) {
    super(
      ErrorCode.Decode,
      `cannot decode ${what} of ${type}/${JSON.stringify(id)} at seqNo ${seqNo}` +
        (options?.cause instanceof Error ? `: ${options.cause.message}` : ""),
      options,
    );
  }
}

/** The snapshot store holds a snapshot newer than the last event in the log: the two stores disagree. */
export class SnapshotAheadOfLogError extends EventSourcedError {
  constructor(
    readonly type: string,
    readonly id: string,
    readonly snapshotSeqNo: number,
    readonly lastSeqNo: number,
  ) {
    super(
      ErrorCode.SnapshotAheadOfLog,
      `snapshot of ${type}/${JSON.stringify(id)} is at seqNo ${snapshotSeqNo} but the log ends at ${lastSeqNo}`,
    );
  }
}

/** Recovering an entity (at spawn or after a failed persist) failed; `cause` says why. */
export class RecoveryError extends EventSourcedError {
  constructor(
    readonly type: string,
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(
      ErrorCode.Recovery,
      `cannot recover ${type}/${JSON.stringify(id)}` +
        (options?.cause instanceof Error ? `: ${options.cause.message}` : ""),
      options,
    );
  }
}

/** The entity was stopped (or failed) and accepts no more commands. */
export class EntityStoppedError extends EventSourcedError {
  constructor(
    readonly type: string,
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.EntityStopped, `entity ${type}/${JSON.stringify(id)} is stopped`, options);
  }
}

/** An argument was malformed: an empty id, an invalid type name, an empty event batch, a bad option. */
export class InvalidArgumentError extends EventSourcedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.InvalidArgument, message, options);
  }
}

/** Configuration is invalid; the message names the key and where it came from. */
export class ConfigurationError extends EventSourcedError {
  constructor(
    message: string,
    readonly key: string,
    readonly source: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Configuration, message, options);
  }
}

/** The error class behind each {@link ErrorCode}, so {@link isEventSourcedError} narrows to it. */
export interface ErrorByCode {
  SEQNO_CONFLICT: SeqNoConflictError;
  CONCURRENCY_CONFLICT: ConcurrencyConflictError;
  PERSIST_FAILED: PersistError;
  READ_FAILED: ReadError;
  CONNECTION_FAILED: ConnectionError;
  DECODE_FAILED: DecodeError;
  SNAPSHOT_AHEAD_OF_LOG: SnapshotAheadOfLogError;
  RECOVERY_FAILED: RecoveryError;
  ENTITY_STOPPED: EntityStoppedError;
  INVALID_ARGUMENT: InvalidArgumentError;
  CONFIGURATION_INVALID: ConfigurationError;
}

/**
 * True when `err` is an eventsourced error, optionally of the given code (then narrowed to its class).
 * @example
 * if (isEventSourcedError(err, ErrorCode.Persist) && err.outcomeUnknown) { ... }
 */
export function isEventSourcedError(err: unknown): err is EventSourcedError;
export function isEventSourcedError<C extends ErrorCode>(err: unknown, code: C): err is ErrorByCode[C];
export function isEventSourcedError(err: unknown, code?: ErrorCode): boolean {
  return err instanceof EventSourcedError && (code === undefined || err.code === code);
}
