import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { afterEach, describe, expect, it } from "vitest";
import { CuttingProxy } from "../../evtlog-nats/test/support/cutting-proxy.js";
import { NatsServerProcess } from "../../evtlog-nats/test/support/nats-server-process.js";

// A service stopping while its NATS server is away (or behind a partition) must exit: `close()` on a
// connection the store opened drains it only while the server answers within `closeTimeoutMs`, then closes
// it, so nats.js stops reconnecting. The store talks to a private server through a cutting proxy.
describe("closing a NATS lease store whose server is away", () => {
  let server: NatsServerProcess | undefined;
  let proxy: CuttingProxy | undefined;
  let store: NatsLeaseStore | undefined;

  afterEach(async () => {
    await store?.close().catch(() => {});
    proxy?.close();
    await server?.stop();
    store = undefined;
    proxy = undefined;
    server = undefined;
  });

  async function open(): Promise<{ server: NatsServerProcess; proxy: CuttingProxy; store: NatsLeaseStore }> {
    server = await NatsServerProcess.start(["-js"]);
    proxy = new CuttingProxy(server.port);
    store = await NatsLeaseStore.create({
      servers: await proxy.listen(),
      bucket: "away",
      ttlMs: 30_000,
      closeTimeoutMs: 500,
    });
    expect(await store.tryAcquire("k", "node-a")).toBeDefined();
    // A watch for releases runs too; close() stops it.
    void store.waitForRelease("other", new AbortController().signal);
    return { server, proxy, store };
  }

  it("returns with the server down and stops reconnecting", async () => {
    const { server, proxy, store } = await open();
    await server.kill();
    proxy.cut();
    const started = Date.now();
    await store.close();
    console.log(`close() with the server down took ${Date.now() - started} ms (closeTimeoutMs 500)`);
    const dials = proxy.accepted;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(proxy.accepted).toBe(dials);
  }, 30_000);

  it("returns behind a partition", async () => {
    const { proxy, store } = await open();
    proxy.drop = "toServer";
    const started = Date.now();
    await store.close();
    console.log(`close() behind a partition took ${Date.now() - started} ms (closeTimeoutMs 500)`);
  }, 30_000);
});
