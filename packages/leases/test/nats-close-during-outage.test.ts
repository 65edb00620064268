import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { expect } from "vitest";
import { describeCloseDuringOutage } from "../../evtlog-nats/test/support/close-during-outage.js";

// A service stopping while its NATS server is away (or behind a partition) must exit: `close()` on a
// connection the store opened drains it only while the server answers within `closeTimeoutMs`, then closes
// it, so nats.js stops reconnecting.
describeCloseDuringOutage("a NATS lease store", async (servers) => {
  const store = await NatsLeaseStore.create({ servers, bucket: "away", ttlMs: 30_000, closeTimeoutMs: 500 });
  expect(await store.tryAcquire("k", "node-a")).toBeDefined();
  // A watch for releases runs too; close() stops it.
  void store.waitForRelease("other", new AbortController().signal);
  return store;
});
