import type { LeaseEndReason } from "./lease.js";

/**
 * One line of a keeper's ownership log (`LeaseKeeperOptions.onLog`), with times from
 * `process.hrtime.bigint()` (CLOCK_MONOTONIC: comparable across processes on one Linux host). Each
 * acquired lease is valid from its `"acquired"` entry's `at` to its `"ended"` entry's `validUntil`, or,
 * when the process died without one, to the last `validUntil` it logged: `validityIntervals` in
 * `@eventsourced/leases/testing` builds the intervals, `overlappingIntervals` checks them.
 *
 * Entries are emitted BEFORE the validity they announce takes effect, so a process killed right after a
 * renewal has already logged the deadline it was about to use.
 */
export interface LeaseLogEntry {
  readonly event: "acquired" | "renewed" | "ended";
  readonly key: string;
  readonly owner: string;
  readonly epoch: number;
  /** When it happened. */
  readonly at: bigint;
  /** The local deadline from now on; for `"ended"`, the end of validity. */
  readonly validUntil: bigint;
  /** Why it ended (`"ended"` only). */
  readonly reason?: LeaseEndReason | undefined;
}
