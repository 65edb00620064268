import { deleteEvtsInBatches } from "./delete-evts-in-batches.js";
import { type DeletionPacer, type DeletionPacing, deletionPacer } from "./deletion-pacer.js";
import { InvalidArgumentError } from "./errors/index.js";
import type { EvtLog } from "./evt-log.js";
import { supportsRetention } from "./evt-log-retention.js";
import { type RetentionHorizon, seqNoWithinHorizon } from "./retention-horizon.js";
import type { SnapshotStore } from "./snapshot-store.js";
import { validateTypeAndId } from "./validate.js";

/** Options of {@link deleteEntity}. */
export interface DeleteEntityOptions {
  /** The entity's log; it must support retention (`supportsRetention`). */
  readonly evtLog: EvtLog;
  /** Where the entity's snapshots are; all of them are deleted (the store needs `deleteAll`). */
  readonly snapshotStore?: SnapshotStore | undefined;
  /**
   * Delete the events up to this seqNo (e.g. the one before a tombstone event). Default: all of them; the
   * head stays (the last seqNo survives) unless `resetSeqNo` is set.
   */
  readonly toSeqNo?: number | undefined;
  /**
   * After deleting every event, delete the head too, so that the entity's seqNos start over at 1. Only
   * with `toSeqNo` unset; stop the entity everywhere first. Default false.
   */
  readonly resetSeqNo?: boolean | undefined;
  /** Never delete past the lowest checkpoint of the projections registered for the type. */
  readonly horizon?: RetentionHorizon | undefined;
  /** Most events deleted by one call to the log. Default 1,000. */
  readonly batchSize?: number | undefined;
  /**
   * How fast to delete: settings (see {@link DeletionPacing}; default at most 60,000 events/s), or a
   * {@link DeletionPacer} shared by a sweep over many entities (settings give each call its own budget,
   * and the first batch of a call never waits).
   */
  readonly pacing?: DeletionPacing | DeletionPacer | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What {@link deleteEntity} did. */
export interface EntityDeleted {
  /** The highest seqNo the log no longer has. */
  readonly deletedTo: number;
  /** Events (or messages, on NATS) removed by this call. */
  readonly removed: number;
  /** False when the horizon (a projection behind) held deletion back: run it again later. */
  readonly complete: boolean;
  /** True when the head was deleted too (`resetSeqNo`). */
  readonly reset: boolean;
}

/**
 * Deletes an entity's data (e.g. personal data): all its snapshots, then its events up to `toSeqNo` (all
 * by default) in bounded, paced batches, never past the horizon. The head survives, so the entity's seqNos
 * never start over and a stale writer still conflicts, unless `resetSeqNo` is requested. Idempotent:
 * run it again to finish what a horizon held back or a crash interrupted.
 *
 * The usual path is a tombstone event (see `RetentionPolicy.isTombstone`), after which the runtime calls
 * this in the background with `toSeqNo` = the tombstone's seqNo - 1; call it directly for operations.
 * Throws `InvalidArgumentError`, before deleting anything, for a bad type or id, options that are not an
 * object, a log that cannot delete, a store that cannot delete all snapshots, a `toSeqNo` that is not an
 * integer >= 0 (one beyond the head deletes up to the head), a `batchSize` that is not an integer >= 1, a
 * `resetSeqNo` that is not a boolean, a `horizon` without `lowestPosition`, a `pacing` breaking the
 * rules of {@link DeletionPacing} (naming the option) or a `signal` that is not an `AbortSignal`. An abort
 * of `signal` stops it between batches, and at once during a pause; run it again to finish.
 */
export async function deleteEntity(
  type: string,
  id: string,
  options: DeleteEntityOptions,
): Promise<EntityDeleted> {
  validateTypeAndId(type, id);
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`deleteEntity options must be an object, got ${String(options)}`);
  }
  const { evtLog, snapshotStore, horizon, signal, resetSeqNo = false } = options;
  // A truthy string such as "false" must not reset (or delete) anything.
  if (typeof resetSeqNo !== "boolean") {
    throw new InvalidArgumentError(`resetSeqNo must be a boolean, got ${JSON.stringify(resetSeqNo)}`);
  }
  if (horizon !== undefined && typeof horizon?.lowestPosition !== "function") {
    throw new InvalidArgumentError("horizon must have a lowestPosition(type) method");
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError("signal must be an AbortSignal");
  }
  if (evtLog === undefined || !supportsRetention(evtLog)) {
    throw new InvalidArgumentError("deleteEntity needs an evtLog that can delete events (EvtLogRetention)");
  }
  if (snapshotStore !== undefined && typeof snapshotStore.deleteAll !== "function") {
    throw new InvalidArgumentError("deleteEntity needs a snapshot store with deleteAll");
  }
  if (resetSeqNo && options.toSeqNo !== undefined) {
    throw new InvalidArgumentError("resetSeqNo deletes the whole entity: do not give toSeqNo with it");
  }
  const batchSize = options.batchSize ?? 1_000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new InvalidArgumentError(`batchSize must be an integer >= 1, got ${String(batchSize)}`);
  }
  const pacer = deletionPacer(options.pacing, "pacing");
  const toSeqNo = options.toSeqNo;
  if (toSeqNo !== undefined && (!Number.isSafeInteger(toSeqNo) || toSeqNo < 0)) {
    throw new InvalidArgumentError(`toSeqNo must be an integer >= 0, got ${String(toSeqNo)}`);
  }
  // Snapshots first: should deletion stop half way, recovery replays the events that are still there.
  await snapshotStore?.deleteAll?.(type, id);
  signal?.throwIfAborted();
  const last = await evtLog.lastSeqNo(type, id);
  const deletedTo = await evtLog.deletedTo(type, id);
  const target = Math.min(last, toSeqNo ?? last);
  let allowed = target;
  const lowest = horizon === undefined ? undefined : await horizon.lowestPosition(type);
  if (lowest !== undefined) {
    allowed = await seqNoWithinHorizon(evtLog, type, id, deletedTo + 1, target, lowest);
  }
  const done = await deleteEvtsInBatches(evtLog, type, id, deletedTo, allowed, batchSize, pacer, signal);
  const complete = allowed === target;
  // A log that keeps the last message (NATS) has not deleted everything, but resetEntity removes the rest.
  if (resetSeqNo && complete && last > 0) {
    await evtLog.resetEntity(type, id, last);
    return { deletedTo: 0, removed: done.removed, complete, reset: true };
  }
  return { deletedTo: done.deletedTo, removed: done.removed, complete, reset: false };
}
