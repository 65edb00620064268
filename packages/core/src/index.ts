// Entity definitions

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
  ConcurrencyConflictError,
  ConfigurationError,
  ConnectionError,
  DecodeError,
  EntityStoppedError,
  type ErrorByCode,
  ErrorCode,
  EventSourcedError,
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
  type CmdResult,
  type Decision,
  defineEntity,
  type Emit,
  type EventSourced,
  emit,
  emitAndReply,
  type Reject,
  type Reply,
  reject,
  reply,
} from "./event-sourced.js";
// Storage contracts
export {
  type EvtLog,
  type EvtMetadata,
  type EvtRecord,
  type EvtsByIdOptions,
  type EvtsByTypeOptions,
  type NewEvt,
  TYPE_NAME_PATTERN,
  type TypedEvtRecord,
} from "./evt-log.js";
// Logging
export { consoleLogger, type LogFields, type Logger, silentLogger } from "./logger.js";
export type { Snapshot, SnapshotStore } from "./snapshot-store.js";
export { validateTypeAndId } from "./validate.js";
