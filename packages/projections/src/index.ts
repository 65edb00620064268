// Projections: read models from the by-type stream. Driver-free core; PostgreSQL (exactly-once, inline) in
// "@eventsourced/projections/postgres", NATS KV checkpoints in "@eventsourced/projections/nats", rxjs in
// "@eventsourced/projections/rxjs", fakes in "@eventsourced/projections/testing".

// Running a projection
export { type AtLeastOnceOptions, atLeastOnce } from "./at-least-once.js";
export type { OnHandlerError, PoisonOutcome, ProcessorStats } from "./batch-processor.js";
export { type BlueGreenOptions, blueGreen } from "./blue-green.js";
// Errors
export {
  CheckpointSaveError,
  InlineProjectionRejectedError,
  PoisonEventError,
  ProjectionFencedError,
  ProjectionStoppedError,
} from "./errors.js";
export { isInfrastructureError } from "./infrastructure-error.js";
// One active instance
export { type ProjectionLease, type ProjectionLeaseKeeper, projectionLeaseKey } from "./lease.js";
// Events as handlers see them
export type { EvtDecoder, ProjectedEvt } from "./projected-evt.js";
export { Projection } from "./projection.js";
export type { ProjectionHandler } from "./projection-handler.js";
export {
  MAX_BATCH_EVENTS,
  PROJECTION_NAME_PATTERN,
  type ProjectionOptions,
} from "./projection-options.js";
export type { ProjectionLag, ProjectionState, ProjectionStatus } from "./projection-status.js";
// Checkpoint stores
export type {
  Advance,
  DeadLetter,
  Fence,
  OperatorRequest,
  ProjectionRow,
  ProjectionStore,
  StoredOperatorRequest,
  StoredProjectionStatus,
} from "./projection-store.js";
