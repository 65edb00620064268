import { silentLogger } from "@eventsourced/core";
import { LeaseKeeper } from "@eventsourced/leases";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsServerProcess } from "../../../test/support/nats-server-process.js";

// A private nats-server (own port and store directory) that the tests kill and restart.
describe("NATS leases across a server restart", () => {
  let server: NatsServerProcess;

  beforeAll(async () => {
    server = await NatsServerProcess.start(["-js"]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("keeps epochs growing after the server restarts (file storage keeps the stream's sequence)", async () => {
    let store = await NatsLeaseStore.create({ servers: server.url, bucket: "epochs", ttlMs: 1_000 });
    const before = (await store.tryAcquire("k", "A"))!;
    await store.release(before);
    await store.close();
    await server.kill();
    await server.restart();
    store = await NatsLeaseStore.create({ servers: server.url, bucket: "epochs", ttlMs: 1_000 });
    const after = (await store.tryAcquire("k", "B"))!;
    expect(after.epoch).toBeGreaterThan(before.epoch);
    await store.close();
  });

  it("ends a lease at its deadline while the server is down, and acquires it again under a new epoch once it is back", async () => {
    const store = await NatsLeaseStore.create({
      servers: server.url,
      bucket: "outage",
      ttlMs: 1_000,
      timeoutMs: 500,
    });
    const keeper = new LeaseKeeper(store, { logger: silentLogger, pollMs: 100 });
    try {
      const lease = await keeper.acquire("k");
      await server.kill();
      const end = await lease.whenEnded;
      expect(end.reason).toBe("deadline-passed");
      await server.restart();
      const again = await keeper.acquire("k", { signal: AbortSignal.timeout(30_000) });
      expect(again.epoch).toBeGreaterThan(lease.epoch);
      expect(again.isValid()).toBe(true);
    } finally {
      await keeper.close();
      await store.close();
    }
  });
});
