import { PersistError, SeqNoConflictError } from "@eventsourced/core";
import type { GroupCommitStats } from "./group-commit.js";
import { describe, type PendingPersist, reason } from "./pending-persist.js";
import { ownershipLost, type PersistFence } from "./persist-fence.js";
import type { QueryFailure } from "./pg-errors.js";
import type { BatchResult } from "./run-batch-statement.js";

/** The committer's counters, as it updates them. */
export type MutableGroupCommitStats = { -readonly [K in keyof GroupCommitStats]: GroupCommitStats[K] };

/** Rejects every persist of `batch` with a `PersistError`. */
export function rejectAll(
  batch: readonly PendingPersist[],
  message: (p: PendingPersist) => string,
  outcomeUnknown: boolean,
  cause: unknown,
): void {
  for (const p of batch) p.reject(new PersistError(message(p), outcomeUnknown, { cause }));
}

/**
 * Settles a failed batch whose failure leaves nothing to retry: when the statement may have committed
 * (`PersistError` with `outcomeUnknown`), or was never sent. Returns false (nothing settled) otherwise.
 */
export function rejectUnretriable(
  batch: readonly PendingPersist[],
  failure: QueryFailure,
  err: unknown,
): boolean {
  if (failure.outcomeUnknown) {
    // The statement may have reached the server and committed: never acknowledged, never retried here.
    const why =
      failure.kind === "lost"
        ? "the connection was lost"
        : failure.kind === "timedOut"
          ? "the server did not answer within queryTimeoutMs (its connection was destroyed)"
          : `the client failed (${reason(err)})`;
    rejectAll(
      batch,
      (p) => `${why} while persisting ${describe(p)}; the write may or may not have committed`,
      true,
      err,
    );
    return true;
  }
  if (failure.kind === "notSent") {
    rejectAll(batch, (p) => `cannot persist ${describe(p)}: ${reason(err)}; nothing was sent`, false, err);
    return true;
  }
  return false;
}

/**
 * Rejects the persists of a batch the server refused (nothing was written): a unique violation is a
 * `SeqNoConflictError`, anything else a `PersistError`.
 */
export function rejectRefused(batch: readonly PendingPersist[], failure: QueryFailure, err: unknown): void {
  for (const p of batch) {
    p.reject(
      failure.sqlState === "23505"
        ? new SeqNoConflictError(p.type, p.id, p.expected, { cause: err })
        : new PersistError(`cannot persist ${describe(p)}: ${reason(err)}`, false, { cause: err }),
    );
  }
}

/**
 * Settles a committed batch: the persists that won resolve with their seqNo and position, those fenced out
 * reject with `OwnershipLostError`, the others with `SeqNoConflictError`. Counts into `stats`; returns the
 * types written.
 */
export function settleCommitted(
  batch: readonly PendingPersist[],
  result: BatchResult,
  stats: MutableGroupCommitStats,
): Set<string> {
  stats.batches++;
  stats.maxBatch = Math.max(stats.maxBatch, batch.length);
  const won = new Map<number, number>();
  for (let i = 0; i < result.won.length; i++) won.set(result.won[i]!, Number(result.positions[i]));
  const types = new Set<string>();
  batch.forEach((p, index) => {
    const position = won.get(index);
    if (position !== undefined) {
      stats.persists++;
      stats.events += p.evts.length;
      types.add(p.type);
      p.resolve({ seqNo: p.expected + p.evts.length, position });
    } else if (p.fence !== undefined && result.fencedOut?.has(index)) {
      p.reject(ownershipLost(p as PendingPersist & { fence: PersistFence }));
    } else {
      stats.conflicts++;
      p.reject(new SeqNoConflictError(p.type, p.id, p.expected));
    }
  });
  return types;
}
