import type { DeletionPacer } from "./deletion-pacer.js";
import type { EvtLog } from "./evt-log.js";
import type { EvtLogRetention } from "./evt-log-retention.js";

/** How far a bounded deletion got. */
export interface BatchedDeletion {
  /** The highest seqNo the log no longer has. */
  readonly deletedTo: number;
  /** Events (or messages, on NATS) removed. */
  readonly removed: number;
}

/**
 * Deletes the entity's events after `deletedTo` up to `toSeqNo`, at most `batchSize` seqNos per call to
 * the log, so no single statement or purge grows with the entity's history. A log may stop short of a
 * step (NATS deletes whole messages only); the next step carries on from there. Each call waits for
 * `pacer` (the rate, pause and concurrency of the deletion); an abort of `signal` stops it between calls,
 * or at once while it waits.
 */
export async function deleteEvtsInBatches(
  evtLog: EvtLog & EvtLogRetention,
  type: string,
  id: string,
  deletedTo: number,
  toSeqNo: number,
  batchSize: number,
  pacer: DeletionPacer,
  signal?: AbortSignal,
): Promise<BatchedDeletion> {
  let reached = deletedTo;
  let removed = 0;
  for (let step = deletedTo; step < toSeqNo; ) {
    signal?.throwIfAborted();
    step = Math.min(toSeqNo, step + batchSize);
    const upTo = step;
    const result = await pacer.batch(() => evtLog.deleteEvts(type, id, upTo), signal);
    removed += result.removed;
    reached = Math.max(reached, result.deletedTo);
  }
  return { deletedTo: reached, removed };
}
