import type { LeaseEndReason } from "@eventsourced/leases";

/**
 * A shard this node started to own. Times are `process.hrtime.bigint()` (CLOCK_MONOTONIC, comparable
 * across processes on one host): the tenure is valid from `at` until the `validUntil` of its
 * {@link ShardEnded} (or, if the process died, of its last renewal in the ownership log).
 */
export interface ShardAcquired {
  readonly type: string;
  readonly shard: number;
  /** The lease's fencing token for this tenure. */
  readonly epoch: number;
  /** This node's id (the lease owner). */
  readonly owner: string;
  readonly at: bigint;
  /** The local deadline at acquisition (renewals extend it). */
  readonly validUntil: bigint;
}

/** A shard this node stopped owning: released (handover) or lost (deadline passed, renewal refused). */
export interface ShardEnded {
  readonly type: string;
  readonly shard: number;
  readonly epoch: number;
  readonly owner: string;
  readonly reason: LeaseEndReason;
  /** When this node noticed. */
  readonly at: bigint;
  /** The end of this node's validity: no write of this tenure starts after it (L1 fencing). */
  readonly validUntil: bigint;
}
