import { NatsTransport } from "@eventsourced/cluster";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { NatsServerProcess } from "../../../test/support/nats-server-process.js";

// A node stopping (SIGTERM) hands its shards over, which stops each shard's subscription. The stop drains
// the subscription, whose flush waits for the server's answer: behind a partition that is until nats.js
// finds the connection stale (minutes), so a stopping node could not exit. Now the drain is bounded by
// `drainTimeoutMs`, then the subscription is unsubscribed locally.
describe("stopping a NATS transport subscription while the server cannot be reached", () => {
  let server: NatsServerProcess | undefined;
  let proxy: FaultProxy | undefined;
  let nc: NatsConnection | undefined;

  afterEach(async () => {
    await nc?.close().catch(() => {});
    proxy?.close();
    await server?.stop();
  });

  it("returns behind a partition and delivers nothing more", async () => {
    server = await NatsServerProcess.start([]);
    proxy = await FaultProxy.inFrontOf(server.url, 4222);
    nc = await connect({ servers: proxy.url, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    const received: Uint8Array[] = [];
    const subscription = new NatsTransport(nc, { drainTimeoutMs: 500 }).subscribe("shard.1", (payload) =>
      received.push(payload),
    );
    await nc.flush();
    proxy.swallow = "toServer";
    const started = Date.now();
    await subscription.stop();
    console.log(`stop() behind a partition took ${Date.now() - started} ms (drainTimeoutMs 500)`);
    proxy.heal();
    proxy.cut();
    // Once nats.js is back, the subscription is not re-created: a message on its subject is not delivered.
    const other = await connect({ servers: server.url });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      other.publish("shard.1", new Uint8Array([1]));
      await other.flush();
      await nc.flush();
      expect(received).toEqual([]);
    } finally {
      await other.close();
    }
  }, 30_000);
});
