import type { PassivationReason } from "../registry/registry-stats.js";

/** A registry passivated an entity (see `Instrumentation.passivated`). */
export interface PassivationInfo {
  readonly typeName: string;
  /** For spans and logs only, never a metric attribute. */
  readonly id: string;
  readonly reason: PassivationReason;
}

/** A persist refused by a seqNo conflict (see `Instrumentation.conflict`). */
export interface ConflictInfo {
  readonly typeName: string;
  /** For spans and logs only, never a metric attribute. */
  readonly id: string;
  /** The seqNo the persist expected to follow. */
  readonly expectedSeqNo: number;
  /** 1 for the command's first conflict, 2 for the next... */
  readonly attempt: number;
  /** True when the command is re-run; false when it fails with `ConcurrencyConflictError`. */
  readonly retried: boolean;
}
