import type { Binarizer } from "./binarizer.js";
import { deleteEvtsInBatches } from "./delete-evts-in-batches.js";
import { DecodeError } from "./errors/index.js";
import type { EvtLog } from "./evt-log.js";
import type { EvtLogRetention } from "./evt-log-retention.js";
import { seqNoWithinHorizon } from "./retention-horizon.js";
import type { ResolvedRetentionPolicy } from "./retention-policy.js";
import type { Snapshot, SnapshotStore } from "./snapshot-store.js";
import { isReadableSnapshot, type ResolvedSnapshotVersioning } from "./snapshot-versioning.js";

/** What retention works with for one entity type. */
export interface RetentionContext<E, S> {
  readonly typeName: string;
  readonly evtLog: EvtLog & EvtLogRetention;
  readonly snapshotStore: SnapshotStore;
  readonly binarizer: Pick<Binarizer<E, S>, "stateFromBytes">;
  readonly versioning: ResolvedSnapshotVersioning;
  readonly policy: ResolvedRetentionPolicy<E>;
}

/** What one retention run did for one entity. */
export interface RetentionOutcome {
  /** The highest seqNo the log no longer has, after the run. */
  readonly deletedTo: number;
  /** Events (or messages, on NATS) removed by the run. */
  readonly removed: number;
  /**
   * What kept it from deleting up to the oldest kept snapshot: `"snapshots"` (fewer than `keepSnapshots`
   * snapshots, or the newest one is of a version this code cannot read), `"horizon"` (a projection has
   * not processed those events yet), or `"nothing"`.
   */
  readonly heldBack: "nothing" | "snapshots" | "horizon";
}

/**
 * One retention run for one entity: reads the kept snapshots back, decodes the newest (deletion relies on
 * it), and deletes the events up to the oldest of the `keepSnapshots` newest, never past the horizon, in
 * bounded batches paced by the policy's pacer. Idempotent, and safe to run from several processes at once and while the entity runs:
 * it only deletes a prefix of the history that every kept snapshot already covers.
 * @throws DecodeError when the newest snapshot cannot be decoded (nothing is deleted).
 */
export async function applyRetention<E, S>(
  ctx: RetentionContext<E, S>,
  id: string,
  signal?: AbortSignal,
): Promise<RetentionOutcome> {
  const { typeName: type, evtLog, snapshotStore, policy } = ctx;
  const snapshots = await keptSnapshots(snapshotStore, type, id);
  signal?.throwIfAborted();
  const newest = snapshots[0];
  const oldestKept = snapshots[policy.keepSnapshots - 1];
  const deletedTo = await evtLog.deletedTo(type, id);
  if (newest === undefined || oldestKept === undefined || !isReadableSnapshot(newest, ctx.versioning)) {
    return { deletedTo, removed: 0, heldBack: "snapshots" };
  }
  try {
    ctx.binarizer.stateFromBytes(newest.bytes, newest.version);
  } catch (cause) {
    throw new DecodeError("snapshot", type, id, newest.seqNo, { cause });
  }
  const target = Math.min(oldestKept.seqNo, await evtLog.lastSeqNo(type, id));
  if (target <= deletedTo) return { deletedTo, removed: 0, heldBack: "nothing" };
  let allowed = target;
  const lowest = policy.horizon === undefined ? undefined : await policy.horizon.lowestPosition(type);
  if (lowest !== undefined) {
    allowed = await seqNoWithinHorizon(evtLog, type, id, deletedTo + 1, target, lowest);
  }
  const done = await deleteEvtsInBatches(
    evtLog,
    type,
    id,
    deletedTo,
    allowed,
    policy.batchSize,
    policy.pacer,
    signal,
  );
  return { ...done, heldBack: allowed < target ? "horizon" : "nothing" };
}

/** The entity's kept snapshots, newest first (just the latest when the store keeps no history). */
async function keptSnapshots(store: SnapshotStore, type: string, id: string): Promise<readonly Snapshot[]> {
  if (store.loadAll !== undefined) return store.loadAll(type, id);
  const latest = await store.load(type, id);
  return latest === undefined ? [] : [latest];
}
