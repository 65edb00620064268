// Entity definitions

export { Backoff, type BackoffOptions } from "./backoff.js";
export { jsonBinarizer, jsonFromBytes, jsonToBytes } from "./binarize/json.js";
export {
  type ProtobufBinarizerOptions,
  type ProtobufMessageType,
  protobufBinarizer,
} from "./binarize/protobuf.js";
// Binarizers
export type { Binarizer } from "./binarizer.js";
// Running entities
export { Entity } from "./entity.js";
export type {
  EntityRef,
  EntityStats,
  EntityStatus,
  HandleCmdOptions,
  SnapshotPolicy,
  SpawnOptions,
  Termination,
} from "./entity-ref.js";
// Errors
export {
  CommandTimeoutError,
  ConcurrencyConflictError,
  ConfigurationError,
  ConnectionError,
  DecodeError,
  EncodeError,
  EntityStoppedError,
  type ErrorByCode,
  ErrorCode,
  EventSourcedError,
  EvtHandlerError,
  InvalidArgumentError,
  isEventSourcedError,
  PersistError,
  ReadError,
  RecoveryError,
  SeqNoConflictError,
  SnapshotAheadOfLogError,
} from "./errors.js";
export {
  type CmdContext,
  type CmdHandler,
  type CmdOf,
  type CmdResult,
  type CmdSpec,
  type Decision,
  defineEntity,
  type Emit,
  type EventSourced,
  type EvtOf,
  type EvtsOfHandler,
  type EvtsOfHandlers,
  emit,
  emitAndReply,
  type PerCommandDefinition,
  type ProtocolOf,
  type ProtocolOfHandler,
  type ProtocolOfHandlers,
  type Reject,
  type RejectionOf,
  type Reply,
  type ReplyOf,
  reject,
  reply,
  type SingleHandlerDefinition,
  type StateOf,
  type TypedDefinition,
} from "./event-sourced.js";
// Storage contracts
export {
  type EvtLog,
  type EvtMetadata,
  type EvtRecord,
  type EvtsByIdOptions,
  type EvtsByTypeOptions,
  MAX_ID_BYTES,
  type NewEvt,
  type Persisted,
  TYPE_NAME_PATTERN,
  type TypedEvtRecord,
  type TypeHead,
} from "./evt-log.js";
// Logging
export { consoleLogger, type LogFields, type Logger, silentLogger } from "./logger.js";
export type { Snapshot, SnapshotStore } from "./snapshot-store.js";
export { validateId, validateTypeAndId } from "./validate.js";
