// Entity definitions

// Event lifecycle: retention and entity deletion
export type { RetentionOutcome } from "./apply-retention.js";
export { Backoff, type BackoffOptions } from "./backoff.js";
export { type JsonBinarizerOptions, jsonBinarizer, jsonFromBytes, jsonToBytes } from "./binarize/json.js";
export {
  type ProtobufBinarizerOptions,
  type ProtobufMessageType,
  type ProtobufWriterLike,
  protobufBinarizer,
} from "./binarize/protobuf.js";
// Binarizers
export type { Binarizer } from "./binarizer.js";
export { decodeEvts } from "./decode-evts.js";
export {
  type CmdHandler,
  defineEntity,
  type EvtsOfHandler,
  type EvtsOfHandlers,
  type PerCommandDefinition,
  type ProtocolOfHandler,
  type ProtocolOfHandlers,
  type SingleHandlerDefinition,
  type TypedDefinition,
} from "./define-entity.js";
export { type DeleteEntityOptions, deleteEntity, type EntityDeleted } from "./delete-entity.js";
export {
  DEFAULT_DELETION_PACING,
  DeletionPacer,
  type DeletionPacing,
  type PacerClock,
  type ResolvedDeletionPacing,
} from "./deletion-pacer.js";
// Running entities
export { Entity } from "./entity.js";
export type {
  DuplicateResult,
  EntityRef,
  EntityStats,
  EntityStatus,
  HandleCmdOptions,
  IdempotentCmdOptions,
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
  EntityNotHostedError,
  EntityStoppedError,
  type ErrorByCode,
  ErrorCode,
  EventSourcedError,
  EventsDeletedError,
  EvtHandlerError,
  InvalidArgumentError,
  isEventSourcedError,
  OwnershipLostError,
  PersistError,
  ReadError,
  RecoveryError,
  RegistryClosedError,
  SeqNoConflictError,
  SnapshotAheadOfLogError,
  SnapshotVersionUnknownError,
} from "./errors/index.js";
export {
  type CmdContext,
  type CmdOf,
  type CmdResult,
  type CmdSpec,
  type Decision,
  type Emit,
  type EventSourced,
  type EvtOf,
  emit,
  emitAndReply,
  type ProtocolOf,
  type Reject,
  type RejectionOf,
  type Reply,
  type ReplyOf,
  reject,
  reply,
  type StateOf,
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
export {
  type EvtLogBulkReads,
  type EvtRange,
  evtsByIdsOf,
  type IdEvtRecord,
  supportsBulkReads,
  validateEvtRanges,
} from "./evt-log-bulk-reads.js";
export { type EvtLogRetention, type EvtsDeleted, supportsRetention } from "./evt-log-retention.js";
// Health and readiness
export {
  createHealthCheck,
  type HealthCheck,
  type HealthCheckOptions,
} from "./health/health-check.js";
export type {
  HealthCheckResult,
  HealthReport,
  ProjectionHealth,
} from "./health/health-report.js";
export {
  type HealthRequest,
  type HealthResponse,
  healthRequestListener,
} from "./health/health-request-listener.js";
export type { HealthEvtLog, HealthLeaseHolder, HealthProjection } from "./health/health-sources.js";
export { IDEMPOTENCY_KEY_HEADER, type IdempotencyWindowOptions } from "./idempotency-window.js";
// Instrumentation hooks (tracing, metrics)
export { combineInstrumentation } from "./instrumentation/combine-instrumentation.js";
export type {
  CommandEnd,
  CommandObserver,
  CommandOutcome,
  CommandStart,
  PersistBatch,
} from "./instrumentation/command-observer.js";
export {
  guardInstrumentation,
  type HookFailureReport,
  warnOnHookFailure,
} from "./instrumentation/guard-instrumentation.js";
export type { Instrumentation } from "./instrumentation/instrumentation.js";
export type { LeaseEvent, LeaseEventKind } from "./instrumentation/lease-event.js";
export type {
  ProjectionBatchEnd,
  ProjectionBatchObserver,
  ProjectionBatchStart,
} from "./instrumentation/projection-batch-observer.js";
export type { RecoveryEnd, RecoveryObserver, RecoveryStart } from "./instrumentation/recovery-observer.js";
export type { ConflictInfo, PassivationInfo } from "./instrumentation/runtime-events.js";
export { type LinkedSignal, linkSignals } from "./linked-signal.js";
// Logging
export { consoleLogger, type LogFields, type Logger, silentLogger } from "./logger.js";
// Entity registry: get-or-spawn by id, passivation, one incarnation per id
export { EntityRegistry } from "./registry/entity-registry.js";
export type {
  PassivationOptions,
  RegistryOptions,
} from "./registry/registry-options.js";
export type { RegistryPhase } from "./registry/registry-slot.js";
export type { PassivationReason, RegistryStats } from "./registry/registry-stats.js";
export type { RetentionHorizon } from "./retention-horizon.js";
export type { RetentionPolicy } from "./retention-policy.js";
export { type RunRetentionOptions, runRetention } from "./run-retention.js";
export type { Snapshot, SnapshotStore } from "./snapshot-store.js";
export type { SnapshotVersioning } from "./snapshot-versioning.js";
// Event schema evolution
export { jsonUpcaster, type Upcaster, type UpcastingBinarizer, upcastingBinarizer } from "./upcasting.js";
export {
  validateCmd,
  validateEvtMetadata,
  validateId,
  validateIdempotencyKey,
  validateSnapshot,
  validateTypeAndId,
} from "./validate.js";
