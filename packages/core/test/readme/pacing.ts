// "Pacing deletion" in packages/core/README.md, verbatim between the region markers (a file of its own, so
// that the block shows every import it needs).
// #region pacing
import { DeletionPacer, deleteEntity, type EvtLog, type SnapshotStore } from "@eventsourced/core";

// One budget for a whole sweep: at most 20,000 events/s, in batches of 500, at least 5 ms apart.
const gentle = new DeletionPacer({ maxEventsPerSecond: 20_000, pauseMs: 5 });

export async function forgetAll(ids: readonly string[], evtLog: EvtLog, snapshotStore: SnapshotStore) {
  for (const id of ids)
    await deleteEntity("account", id, { evtLog, snapshotStore, batchSize: 500, pacing: gentle });
}
// #endregion pacing
