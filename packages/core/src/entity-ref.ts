import type { Binarizer } from "./binarizer.js";
import type { CmdOf, CmdResult, CmdSpec, RejectionOf, ReplyOf } from "./event-sourced.js";
import type { EvtLog, EvtMetadata } from "./evt-log.js";
import type { IdempotencyWindowOptions } from "./idempotency-window.js";
import type { Instrumentation } from "./instrumentation/instrumentation.js";
import type { Logger } from "./logger.js";
import type { RetentionPolicy } from "./retention-policy.js";
import type { SnapshotStore } from "./snapshot-store.js";
import type { SnapshotVersioning } from "./snapshot-versioning.js";

/** When to save a snapshot: every `n` events (when the seqNo crosses a multiple of n) or by predicate. */
export type SnapshotPolicy<S> = number | ((state: S, seqNo: number) => boolean);

/** Options of `Entity.spawn`. */
export interface SpawnOptions<S, E> {
  /** Where events are persisted. */
  readonly evtLog: EvtLog;
  /** Encodes events and snapshots; default: `jsonBinarizer()`. */
  readonly binarizer?: Binarizer<E, S> | undefined;
  /** Where snapshots are kept; default: none (recovery replays all events). */
  readonly snapshotStore?: SnapshotStore | undefined;
  /** When to snapshot (needs `snapshotStore`); default: never. */
  readonly snapshotAfter?: SnapshotPolicy<S> | undefined;
  /**
   * The version stored with every snapshot and the versions recovery can decode; a snapshot of any other
   * version is skipped (recovery replays the events) or refused, as configured. Default: snapshots carry
   * no version and only such snapshots are read.
   */
  readonly snapshotVersion?: SnapshotVersioning | undefined;
  /**
   * Snapshot every N events, keep K snapshots, delete the events they cover, and delete an entity after
   * its tombstone event, in the background (see `RetentionPolicy`). Default: nothing is ever deleted.
   */
  readonly retention?: RetentionPolicy<E> | undefined;
  /** Commands that may wait in the mailbox; further callers wait for room (backpressure). Default 1024. */
  readonly mailboxSize?: number | undefined;
  /** How often a command that hit a seqNo conflict is re-run on fresh state before failing. Default 3; 0 disables. */
  readonly maxConflictRetries?: number | undefined;
  /** Backoff while the log is unreachable during re-synchronisation. Defaults: 50 ms doubling to 5 s, jittered. */
  readonly retryBackoff?:
    | { readonly initialMs?: number | undefined; readonly maxMs?: number | undefined }
    | undefined;
  /**
   * Before answering a command without emitting (a reply or a rejection), ask the log for the entity's
   * last seqNo and catch up first when another process has written since (one primary-key lookup on
   * PostgreSQL, one direct get on NATS). Turn it on when several processes may serve the same id without a
   * cluster routing each id to one owner; a single process (or `@eventsourced/cluster`) does not need it.
   * Default false.
   */
  readonly freshReads?: boolean | undefined;
  /**
   * The idempotency keys the entity remembers (see `IdempotentCmdOptions`). By default the last 1,000
   * keys, learned from the events the entity folds (its own commands, recovery after the snapshot,
   * re-synchronisation). Giving this option also makes recovery read back up to `maxKeys` events before
   * the snapshot, so the whole window survives a restart.
   */
  readonly idempotency?: IdempotencyWindowOptions | undefined;
  /** Default: `consoleLogger` (warnings and errors to stderr). */
  readonly logger?: Logger | undefined;
  /**
   * Hooks told about commands, persists, recoveries and conflicts (for tracing and metrics, e.g.
   * `@eventsourced/opentelemetry`). Default none: no hook call, clock read or allocation per command.
   */
  readonly instrumentation?: Instrumentation | undefined;
  /** Aborts recovery. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of one `EntityRef.handleCmd` call. */
export interface HandleCmdOptions {
  /**
   * Give up waiting: while the command is still queued (or waiting for mailbox room) it is removed without
   * effect and the promise rejects with `signal.reason`; while an asynchronous `handleCmd` is still deciding
   * it (the handler sees the abort as `ctx.signal`), the command is abandoned without effect the same way and
   * the entity goes on with its next command, whatever the handler does later. Once its events are being
   * persisted the command completes.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * Give up after this many milliseconds, like `signal`; the promise then rejects with `CommandTimeoutError`
   * (code `COMMAND_TIMEOUT`). It bounds a caller's wait for a decision, also when `handleCmd` never settles.
   */
  readonly timeoutMs?: number | undefined;
  /** Metadata stored with every event this command emits. */
  readonly metadata?: EvtMetadata | undefined;
}

/**
 * Options of a command that must be applied at most once: a retry with the same `idempotencyKey` (after
 * a timeout, or a `PersistError` with `outcomeUnknown`) is not run again if the first attempt was
 * applied; it resolves to a {@link DuplicateResult} instead.
 */
export interface IdempotentCmdOptions extends HandleCmdOptions {
  /**
   * Identifies the command across retries, processes and restarts (1 to 256 characters). Stored with the
   * command's last event. A key is recognised while it is in the entity's window (see
   * `SpawnOptions.idempotency`); an older one is not, and its command runs again. Rejected and read-only
   * commands store nothing, so a retry of one is decided again.
   */
  readonly idempotencyKey: string;
}

/** The command's idempotency key was already applied: nothing was done; where the first attempt ended up. */
export interface DuplicateResult {
  readonly kind: "duplicate";
  /** The entity's seqNo after the first attempt. */
  readonly seqNo: number;
  /** The log position of the first attempt's last event, when known. */
  readonly position: number | undefined;
}

/** Lifecycle of an entity. */
export type EntityStatus = "running" | "stopping" | "stopped" | "failed";

/** Why an entity terminated. */
export type Termination =
  | { readonly reason: "stopped" }
  | { readonly reason: "failed"; readonly error: Error };

/** Counters an owner can read for monitoring. */
export interface EntityStats {
  readonly commandsAccepted: number;
  readonly commandsRejected: number;
  readonly persistFailures: number;
  readonly conflictRetries: number;
  readonly resyncs: number;
  readonly snapshotsSaved: number;
  readonly snapshotSaveFailures: number;
  /** Commands in the mailbox now (at most `mailboxSize`), not counting the one being handled. */
  readonly mailboxQueued: number;
  /** Callers waiting for room in a full mailbox now. */
  readonly mailboxWaiting: number;
}

/**
 * A running entity with protocol `P` (see `CmdSpec`; `EntityRef<ProtocolOf<typeof definition>>`).
 * Commands are handled one at a time, in arrival order.
 */
export interface EntityRef<P extends CmdSpec = CmdSpec> {
  readonly typeName: string;
  readonly id: string;
  /** The seqNo of the last event applied. */
  readonly seqNo: number;
  readonly status: EntityStatus;
  readonly stats: EntityStats;
  /** Resolves once the entity has terminated (never rejects). */
  readonly whenStopped: Promise<Termination>;
  /**
   * Handles a command. Resolves when the command's events are durable in the log (or it was rejected or
   * answered read-only); its reply and rejection types are those of `cmd`'s kind. Rejects with a typed
   * error on technical failure: `PersistError`, `ConcurrencyConflictError`, `EntityStoppedError`,
   * `EvtHandlerError`, `EncodeError`, `CommandTimeoutError`, or whatever `handleCmd` threw.
   *
   * With an `idempotencyKey` it resolves to a `DuplicateResult` instead of running a command whose key was
   * already applied to this entity.
   */
  handleCmd<C extends CmdOf<P>>(
    cmd: C,
    options: IdempotentCmdOptions,
  ): Promise<CmdResult<ReplyOf<P, C>, RejectionOf<P, C>> | DuplicateResult>;
  /**
   * Handles a command (see the overload above); without an idempotency key it never resolves to a
   * duplicate.
   */
  handleCmd<C extends CmdOf<P>>(
    cmd: C,
    options?: HandleCmdOptions,
  ): Promise<CmdResult<ReplyOf<P, C>, RejectionOf<P, C>>>;
  /** Stops accepting commands, finishes the queued ones, then resolves once idle and any snapshot save is done. */
  stop(): Promise<void>;
}
