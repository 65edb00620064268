// The error classes of eventsourced, one file per family; every export of the package's errors is here.

export { ConfigurationError, InvalidArgumentError } from "./argument-errors.js";
export { ErrorCode, EventSourcedError } from "./base.js";
export { CommandTimeoutError, EntityStoppedError, EvtHandlerError } from "./command-errors.js";
export { type ErrorByCode, isEventSourcedError } from "./error-by-code.js";
export {
  ConcurrencyConflictError,
  EncodeError,
  OwnershipLostError,
  PersistError,
  SeqNoConflictError,
} from "./persist-errors.js";
export {
  ConnectionError,
  DecodeError,
  EventsDeletedError,
  ReadError,
  RecoveryError,
  SnapshotAheadOfLogError,
  SnapshotVersionUnknownError,
} from "./recovery-errors.js";
export { EntityNotHostedError, RegistryClosedError } from "./registry-errors.js";
