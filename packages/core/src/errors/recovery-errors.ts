// Errors of reading and recovering an entity: reads, connections, decoding, snapshots, deleted events.
import { ErrorCode, EventSourcedError } from "./base.js";

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
