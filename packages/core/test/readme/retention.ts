// "Retention" in packages/core/README.md, verbatim between the region markers (checked by
// test/readme-code-blocks.test.ts); ../readme-example.test.ts runs it.
// #region retention
import {
  deleteEntity,
  Entity,
  type EvtLog,
  type RetentionHorizon,
  type SnapshotStore,
} from "@eventsourced/core";
import { account } from "./account.js";
import { accountBinarizer } from "./upcasting.js";

export function spawnWithRetention(
  id: string,
  evtLog: EvtLog,
  snapshotStore: SnapshotStore, // keeping at least 2 snapshots per entity (its `history`)
  projections: RetentionHorizon, // how far the type's projections have got
) {
  return Entity.spawn(id, account, {
    evtLog,
    snapshotStore,
    binarizer: accountBinarizer,
    // Snapshots saved before versions were configured are still good.
    snapshotVersion: { current: "account/1", readUnversioned: true },
    // Akka's RetentionCriteria.snapshotEvery(100, 2).withDeleteEventsOnSnapshot()
    retention: { snapshotEvery: 100, keepSnapshots: 2, deleteEvents: true, horizon: projections },
  });
}

/** Operations: delete what an entity stored (its seqNos stay taken unless `resetSeqNo` is given). */
export function forget(id: string, evtLog: EvtLog, snapshotStore: SnapshotStore) {
  return deleteEntity("account", id, { evtLog, snapshotStore });
}

// #endregion retention
