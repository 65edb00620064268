import type { EvtLog, Logger } from "@eventsourced/core";
import type { LeaseStore } from "@eventsourced/leases";
import type { ShardTenure } from "./cluster-node-options.js";

/**
 * A log that fences its own writes with a lease tenure (strict fencing, L2): `PostgresEvtLog` created with
 * `fencing: { leaseTable }` (the lease row is checked inside the write) and `NatsEvtLog` (an epoch marker
 * per entity activated, epoch-checked persists).
 */
interface StrictlyFenceable extends EvtLog {
  readonly strictFencing: boolean;
  fenced(fence: { readonly key: string; readonly owner: string; readonly epoch: number }): EvtLog;
}

/**
 * The default `fenceLog`: the log's own strict fencing when it offers it (`strictFencing`), else the log
 * unchanged (L0 and L1 still hold).
 */
export function strictFence(log: EvtLog, tenure: ShardTenure): EvtLog {
  const candidate = log as Partial<StrictlyFenceable>;
  if (candidate.strictFencing !== true || typeof candidate.fenced !== "function") return log;
  return candidate.fenced({ key: tenure.key, owner: tenure.owner, epoch: tenure.epoch });
}

/** Warns when leases and log are both on PostgreSQL but the log was created without strict fencing. */
export function warnWithoutStrictFencing(log: EvtLog, leaseStore: LeaseStore, logger: Logger): void {
  const onPostgres = "table" in leaseStore && (log as Partial<StrictlyFenceable>).strictFencing === false;
  if (onPostgres) {
    logger.warn(
      "cluster: the PostgreSQL log has no strict fencing; create it with fencing: { leaseTable: leaseStore.table } " +
        "so that no event commits under a superseded shard lease",
    );
  }
}
