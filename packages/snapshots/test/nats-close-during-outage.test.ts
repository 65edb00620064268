import { NatsSnapshotStore } from "@eventsourced/snapshots/nats";
import { describeCloseDuringOutage } from "../../evtlog-nats/test/support/close-during-outage.js";

// A service stopping while its NATS server is away (or behind a partition) must exit: `close()` on a
// connection the store opened drains it only while the server answers within `closeTimeoutMs`, then closes
// it, so nats.js stops reconnecting.
describeCloseDuringOutage("a NATS snapshot store", async (servers) => {
  const store = await NatsSnapshotStore.create({ servers, bucket: "away", closeTimeoutMs: 500 });
  await store.save("T", "a", { seqNo: 1, bytes: new Uint8Array([1]) });
  return store;
});
