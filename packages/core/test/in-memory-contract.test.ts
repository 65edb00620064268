import {
  describeEvtLogContract,
  describeSnapshotStoreContract,
  InMemoryEvtLog,
  InMemorySnapshotStore,
} from "@eventsourced/core/testing";

describeEvtLogContract("InMemoryEvtLog", async () => ({ subject: new InMemoryEvtLog() }));
describeSnapshotStoreContract("InMemorySnapshotStore", async () => ({
  subject: new InMemorySnapshotStore(),
}));
