import type { ConfigurationError, InvalidArgumentError } from "./argument-errors.js";
import type { EventSourcedError } from "./base.js";
import { isBranded } from "./base.js";
import type { CommandTimeoutError, EntityStoppedError, EvtHandlerError } from "./command-errors.js";
import type {
  ConcurrencyConflictError,
  EncodeError,
  OwnershipLostError,
  PersistError,
  SeqNoConflictError,
} from "./persist-errors.js";
import type {
  ConnectionError,
  DecodeError,
  EventsDeletedError,
  ReadError,
  RecoveryError,
  SnapshotAheadOfLogError,
  SnapshotVersionUnknownError,
} from "./recovery-errors.js";
import type { EntityNotHostedError, RegistryClosedError } from "./registry-errors.js";

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
