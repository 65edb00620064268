// The contract example of packages/core/README.md, verbatim between the region markers.
// #region contract
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describeEvtLogContract, describeSnapshotStoreContract } from "@eventsourced/core/testing/vitest";

describeEvtLogContract("InMemoryEvtLog", async () => ({ subject: new InMemoryEvtLog() }));
describeSnapshotStoreContract("InMemorySnapshotStore", async ({ history }) => ({
  subject: new InMemorySnapshotStore({ history }),
}));
// #endregion contract
