import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describeEvtLogContract, describeSnapshotStoreContract } from "@eventsourced/core/testing/vitest";

describeEvtLogContract("InMemoryEvtLog", async () => ({ subject: new InMemoryEvtLog() }));
describeSnapshotStoreContract("InMemorySnapshotStore", async () => ({
  subject: new InMemorySnapshotStore(),
}));
