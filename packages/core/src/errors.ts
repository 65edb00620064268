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
  CommandTimeout: "COMMAND_TIMEOUT",
  EvtHandler: "EVT_HANDLER_FAILED",
  Encode: "ENCODE_FAILED",
  OwnershipLost: "OWNERSHIP_LOST",
  RegistryClosed: "REGISTRY_CLOSED",
  EntityNotHosted: "ENTITY_NOT_HOSTED",
  EventsDeleted: "EVENTS_DELETED",
  SnapshotVersionUnknown: "SNAPSHOT_VERSION_UNKNOWN",
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Marks every eventsourced error, whichever copy of this package created it. `Symbol.for` keys are shared
 * by every module in the process, so an application that ends up with two copies of core (an adapter
 * resolving its own) still recognises the other copy's errors.
 */
const BRAND: unique symbol = Symbol.for("@eventsourced/core.error") as never;

function isBranded(value: unknown): value is EventSourcedError {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [BRAND]?: unknown })[BRAND] === true &&
    typeof (value as { code?: unknown }).code === "string"
  );
}

/**
 * Base class of every error thrown by eventsourced; `code` is stable, `cause` holds the underlying error.
 *
 * Identity is by brand and code, not by class object: `err instanceof SeqNoConflictError` is true for a
 * conflict raised by another copy of this package too (each class with a code of its own matches errors
 * carrying that code). Packages add their own codes and classes the same way.
 */
export class EventSourcedError extends Error {
  /** The code that instances of this class carry; set by every class with a code of its own. */
  static readonly code: string | undefined = undefined;

  /** Recognises errors of this class from any copy of the package, by brand and code. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class on the right of `instanceof` (a subclass, usually), which is the point here.
    // biome-ignore-start lint/complexity/noThisInStatic: see above
    if (!isBranded(value)) return false;
    if (this === EventSourcedError) return true;
    const code = Object.hasOwn(this, "code") ? (this as { code?: unknown }).code : undefined;
    if (typeof code === "string") return value.code === code;
    return Function.prototype[Symbol.hasInstance].call(this, value);
    // biome-ignore-end lint/complexity/noThisInStatic: see above
  }

  readonly code: ErrorCode | (string & {});

  constructor(code: ErrorCode | (string & {}), message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
Object.defineProperty(EventSourcedError.prototype, BRAND, { value: true });

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

/** Reading from an EvtLog or SnapshotStore failed. */
export class ReadError extends EventSourcedError {
  static override readonly code: string = ErrorCode.Read;
  declare readonly code: typeof ErrorCode.Read;
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Read, message, options);
  }
}

/**
 * A server could not be reached or refused the credentials. `target` names it (host, port, database or URL)
 * and never contains a password.
 */
export class ConnectionError extends EventSourcedError {
  static override readonly code: string = ErrorCode.Connection;
  declare readonly code: typeof ErrorCode.Connection;
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
  static override readonly code: string = ErrorCode.Decode;
  declare readonly code: typeof ErrorCode.Decode;
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
  static override readonly code: string = ErrorCode.SnapshotAheadOfLog;
  declare readonly code: typeof ErrorCode.SnapshotAheadOfLog;
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
  static override readonly code: string = ErrorCode.Recovery;
  declare readonly code: typeof ErrorCode.Recovery;
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
  static override readonly code: string = ErrorCode.EntityStopped;
  declare readonly code: typeof ErrorCode.EntityStopped;
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
  static override readonly code: string = ErrorCode.InvalidArgument;
  declare readonly code: typeof ErrorCode.InvalidArgument;
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.InvalidArgument, message, options);
  }
}

/** Configuration is invalid; the message names the key and where it came from. */
export class ConfigurationError extends EventSourcedError {
  static override readonly code: string = ErrorCode.Configuration;
  declare readonly code: typeof ErrorCode.Configuration;
  constructor(
    message: string,
    readonly key: string,
    readonly source: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Configuration, message, options);
  }
}

/** A command waited longer than its `timeoutMs` and was withdrawn without effect. */
export class CommandTimeoutError extends EventSourcedError {
  static override readonly code: string = ErrorCode.CommandTimeout;
  declare readonly code: typeof ErrorCode.CommandTimeout;
  constructor(
    readonly type: string,
    readonly id: string,
    readonly timeoutMs: number,
  ) {
    super(
      ErrorCode.CommandTimeout,
      `command for ${type}/${JSON.stringify(id)} timed out after ${timeoutMs} ms before it was handled; it had no effect`,
    );
  }
}

/**
 * `handleEvt` threw while folding the events a command emitted. The events are folded before they are
 * persisted, so nothing was written and the entity keeps serving its previous state. `seqNo` is the seqNo
 * the failing event would have had.
 */
export class EvtHandlerError extends EventSourcedError {
  static override readonly code: string = ErrorCode.EvtHandler;
  declare readonly code: typeof ErrorCode.EvtHandler;
  constructor(
    readonly type: string,
    readonly id: string,
    readonly seqNo: number,
    options?: { cause?: unknown },
  ) {
    super(
      ErrorCode.EvtHandler,
      `handleEvt of ${type}/${JSON.stringify(id)} threw on the event that would have had seqNo ${seqNo}; nothing was persisted` +
        (options?.cause instanceof Error ? `: ${options.cause.message}` : ""),
      options,
    );
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

/**
 * The entity registry was closed: the command was not handled (it never reached an entity, or reached one
 * only after it had stopped), so it had no effect.
 */
export class RegistryClosedError extends EventSourcedError {
  static override readonly code: string = ErrorCode.RegistryClosed;
  declare readonly code: typeof ErrorCode.RegistryClosed;
  constructor(
    readonly type: string,
    readonly id: string | undefined,
  ) {
    super(
      ErrorCode.RegistryClosed,
      id === undefined
        ? `the entity registry of ${type} is closed`
        : `the entity registry of ${type} is closed; the command for ${JSON.stringify(id)} had no effect`,
    );
  }
}

/**
 * The entity registry's `canHost` refused the id (in a cluster: this process does not own the id's shard),
 * so the entity was not spawned and the command had no effect. Send it to the owner instead.
 */
export class EntityNotHostedError extends EventSourcedError {
  static override readonly code: string = ErrorCode.EntityNotHosted;
  declare readonly code: typeof ErrorCode.EntityNotHosted;
  constructor(
    readonly type: string,
    readonly id: string,
  ) {
    super(
      ErrorCode.EntityNotHosted,
      `entity ${type}/${JSON.stringify(id)} is not hosted by this registry; the command had no effect`,
    );
  }
}

/**
 * Recovery needed events that retention (or an entity deletion) has deleted, and no usable snapshot covers
 * them: folding what is left would produce a wrong state, so the entity is not started. `deletedTo` is the
 * highest seqNo the log no longer has; `neededFrom` the first seqNo recovery had to read. Restore a usable
 * snapshot (an older kept one, or one whose version the code knows) to recover.
 */
export class EventsDeletedError extends EventSourcedError {
  static override readonly code: string = ErrorCode.EventsDeleted;
  declare readonly code: typeof ErrorCode.EventsDeleted;
  constructor(
    readonly type: string,
    readonly id: string,
    readonly deletedTo: number,
    readonly neededFrom: number,
    options?: { cause?: unknown },
  ) {
    super(
      ErrorCode.EventsDeleted,
      `cannot recover ${type}/${JSON.stringify(id)}: it needs the events from seqNo ${neededFrom}, but the log has deleted them up to seqNo ${deletedTo} and no usable snapshot covers them`,
      options,
    );
  }
}

/**
 * A snapshot was written under a version the entity's `snapshotVersion` does not list as readable, and the
 * entity is configured to refuse such snapshots (`onUnknown: "reject"`) instead of replaying the events.
 */
export class SnapshotVersionUnknownError extends EventSourcedError {
  static override readonly code: string = ErrorCode.SnapshotVersionUnknown;
  declare readonly code: typeof ErrorCode.SnapshotVersionUnknown;
  constructor(
    readonly type: string,
    readonly id: string,
    readonly seqNo: number,
    readonly version: string | undefined,
  ) {
    super(
      ErrorCode.SnapshotVersionUnknown,
      `the snapshot of ${type}/${JSON.stringify(id)} at seqNo ${seqNo} has version ${version === undefined ? "(none)" : JSON.stringify(version)}, which this code does not read`,
    );
  }
}

/**
 * The error class behind each code, so {@link isEventSourcedError} narrows to it. Packages that define
 * errors of their own add them by declaration merging:
 * `declare module "@eventsourced/core" { interface ErrorByCode { MY_CODE: MyError } }`.
 */
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
  COMMAND_TIMEOUT: CommandTimeoutError;
  EVT_HANDLER_FAILED: EvtHandlerError;
  ENCODE_FAILED: EncodeError;
  OWNERSHIP_LOST: OwnershipLostError;
  REGISTRY_CLOSED: RegistryClosedError;
  ENTITY_NOT_HOSTED: EntityNotHostedError;
  EVENTS_DELETED: EventsDeletedError;
  SNAPSHOT_VERSION_UNKNOWN: SnapshotVersionUnknownError;
}

/**
 * True when `err` is an eventsourced error (from any copy of the package), optionally of the given code
 * (then narrowed to its class). The runtime itself recognises errors this way.
 * @example
 * if (isEventSourcedError(err, ErrorCode.Persist) && err.outcomeUnknown) { ... }
 */
export function isEventSourcedError(err: unknown): err is EventSourcedError;
export function isEventSourcedError<C extends keyof ErrorByCode>(
  err: unknown,
  code: C,
): err is ErrorByCode[C];
export function isEventSourcedError(err: unknown, code: string): err is EventSourcedError;
export function isEventSourcedError(err: unknown, code?: string): boolean {
  return isBranded(err) && (code === undefined || err.code === code);
}
