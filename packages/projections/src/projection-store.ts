import type { EvtMetadata } from "@eventsourced/core";

/** What the stored row says a projection should do; every instance follows it (pause is persisted). */
export type StoredProjectionStatus = "running" | "paused" | "failed";

/** A projection's checkpoint row. */
export interface ProjectionRow {
  readonly name: string;
  /** The entity type it reads. */
  readonly type: string;
  /** Position of the last event applied (0: none). */
  readonly position: number;
  /** Lease epoch of the instance that last claimed it (0 without a lease). */
  readonly epoch: number;
  readonly status: StoredProjectionStatus;
  /** Why it failed, when `status` is `"failed"`. */
  readonly error?: string | undefined;
  /** `recordedAt` of the last event applied (the log's clock), for the lag in time. */
  readonly lastEventAt?: Date | undefined;
  /** Operator requests waiting for the active instance (see {@link ProjectionStore.request}), oldest first. */
  readonly requests?: readonly StoredOperatorRequest[] | undefined;
}

/**
 * Maintenance an operator asks for from outside the application (the `eventsourced` CLI), performed by the
 * active instance between batches with the projection's own handler: a rebuild (the handler's `reset` and
 * checkpoint 0) or the re-drive of one dead letter.
 */
export type OperatorRequest =
  | { readonly kind: "rebuild" }
  | { readonly kind: "redrive"; readonly position: number };

/** An {@link OperatorRequest} as stored: with an id (to complete it) and when it was made. */
export type StoredOperatorRequest = OperatorRequest & { readonly id: string; readonly requestedAt: Date };

/** An event the projection gave up on (outcome `"dead-letter"`), stored beside its checkpoint. */
export interface DeadLetter {
  readonly projection: string;
  readonly position: number;
  readonly type: string;
  readonly id: string;
  readonly seqNo: number;
  readonly recordedAt: Date;
  readonly contentType?: string | undefined;
  readonly metadata?: EvtMetadata | undefined;
  /** The stored bytes, so the event can be re-driven without the log. */
  readonly bytes: Uint8Array;
  /** The last error, as text (message and, when there is one, the cause's). */
  readonly error: string;
  /** How many times the handler was tried on it (1 for an event that could not be decoded). */
  readonly attempts: number;
  /** When the store recorded it. */
  readonly failedAt?: Date | undefined;
}

/**
 * What a write expects to find: the checkpoint at `position` under lease `epoch`. A write that finds anything
 * else fails with `ProjectionFencedError` and changes nothing.
 */
export interface Fence {
  readonly name: string;
  readonly epoch: number;
  readonly position: number;
}

/** Where a write moves the checkpoint, and the dead letters it stores in the same step. */
export interface Advance {
  readonly position: number;
  readonly lastEventAt: Date | undefined;
  readonly deadLetters: readonly DeadLetter[];
}

/**
 * Where a projection keeps its checkpoint, status and dead letters. The PostgreSQL store
 * (`@eventsourced/projections/postgres`) also runs exactly-once handlers in the checkpoint's transaction;
 * the NATS KV store (`@eventsourced/projections/nats`) and the in-memory one serve at-least-once handlers.
 * Every implementation passes `describeProjectionStoreContract` from `@eventsourced/projections/testing/vitest`.
 */
export interface ProjectionStore {
  /**
   * Returns the projection's row, creating it (position 0, running) when missing, and records `epoch` as
   * the owner's. Fails with `ProjectionFencedError` when a newer epoch has claimed it.
   */
  claim(name: string, type: string, epoch: number): Promise<ProjectionRow>;
  /** The row as stored, `undefined` when the projection never ran. */
  load(name: string): Promise<ProjectionRow | undefined>;
  /** Compare-and-set: moves the checkpoint from `fence` to `advance` and stores its dead letters, atomically. */
  save(fence: Fence, advance: Advance): Promise<void>;
  /** Sets the persisted status (pause, resume, failed with its error); unconditional. */
  setStatus(name: string, status: StoredProjectionStatus, error?: string | undefined): Promise<void>;
  /**
   * Moves the checkpoint to `position` (a rebuild from 0, or a replay from a known point), clearing the lag
   * time. An instance running at the time fails its next save with `ProjectionFencedError`.
   */
  reset(name: string, position: number): Promise<void>;
  /** The projection's dead letters in position order. */
  deadLetters(name: string): Promise<DeadLetter[]>;
  /** Removes one dead letter; false when there was none at `position`. */
  deleteDeadLetter(name: string, position: number): Promise<boolean>;
  /**
   * Optional: stores `request` in the projection's row, where the active instance finds it at its next
   * status poll and performs it; `undefined` when the projection has no row (it never ran).
   */
  request?(name: string, request: OperatorRequest): Promise<StoredOperatorRequest | undefined>;
  /** Optional (with {@link request}): removes a request once it was performed or given up. */
  completeRequest?(name: string, id: string): Promise<void>;
}
