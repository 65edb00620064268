/** Where a lease held by a `LeaseKeeper` stands. */
export type LeaseStatus = "held" | "lost" | "released";

/** Why a lease stopped being held: its local deadline passed, a renewal was refused, or it was released. */
export type LeaseEndReason = "deadline-passed" | "renewal-refused" | "released";

/** How a lease ended. */
export interface LeaseEnd {
  readonly reason: LeaseEndReason;
  /** `process.hrtime.bigint()` when this process noticed. */
  readonly at: bigint;
  /** The end of local validity: the deadline if it passed, else `at`. */
  readonly validUntil: bigint;
}

/**
 * One tenure of a key held and renewed by a `LeaseKeeper`. Validity is LOCAL and monotonic: it ends at the
 * deadline = (time the last successful renewal was sent, on the monotonic clock) + TTL - margin, which comes
 * before the server lets anyone else acquire the key, provided this host's clock rate stays within the
 * margin. Ask {@link isValid} (or {@link validFor}) right before every act that needs ownership: after a
 * pause (GC, SIGSTOP, a blocked event loop) it answers from the clock, before any timer had a chance to run.
 */
export interface Lease {
  readonly key: string;
  readonly owner: string;
  /** The fencing token of this tenure (see `LeaseHolder.epoch`). */
  readonly epoch: number;
  /** Checks the deadline first, so it never says `"held"` past it. */
  readonly status: LeaseStatus;
  /** The current local deadline, on the `process.hrtime.bigint()` clock (nanoseconds). */
  readonly validUntil: bigint;
  /** Resolves once, when the lease is lost or released. */
  readonly whenEnded: Promise<LeaseEnd>;
  /** True while held and before the deadline; noticing a passed deadline ends the lease (and calls `onLost`). */
  isValid(): boolean;
  /** True if the lease stays valid for at least `ms` more milliseconds (without further renewals). */
  validFor(ms: number): boolean;
  /**
   * Stops renewing and ends the tenure at the store so another owner can acquire at once. Locally the lease
   * is invalid from the moment of the call. A no-op once the lease has ended. Rejects with
   * `LeaseStoreError` if the store cannot be reached (the lease then simply expires).
   */
  release(): Promise<void>;
}
