import { ClusterNode } from "@eventsourced/cluster";
import { isEventSourcedError, silentLogger } from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { connect } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { NatsServerProcess } from "../../../test/support/nats-server-process.js";
import { counterOf, eventually, increments } from "./support/cluster-env.js";

const TYPE = "StopCounter";

// A service gets SIGTERM while NATS is unreachable: its node must stop (leave, hand every shard over,
// release the leases, close the keeper and the registry, stop the transport) in bounded time, so the
// process can exit. Everything lives on a private server behind a cutting proxy: the log, the leases, the
// cluster store and the transport (the node's defaults on `nats`). What was acknowledged before the outage
// is stored; commands sent during it end with a typed error (or succeed), none is left pending.
describe("ClusterNode.stop() while NATS is unreachable", () => {
  let server: NatsServerProcess | undefined;
  let proxy: FaultProxy | undefined;
  const closers: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
    proxy?.close();
    await server?.stop();
    proxy = undefined;
    server = undefined;
  });

  /** A node on a private server behind the proxy, holding every shard (log, leases, store, transport). */
  async function runningNode() {
    server = await NatsServerProcess.start(["-js"]);
    proxy = await FaultProxy.inFrontOf(server.url, 4222);
    const nc = await connect({
      servers: proxy.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    closers.push(() => nc.close());
    const log = await NatsEvtLog.connect({ connection: nc, logger: silentLogger, closeTimeoutMs: 500 });
    closers.push(() => log.close());
    const leaseStore = await NatsLeaseStore.create({ connection: nc, bucket: "stop-leases", ttlMs: 5_000 });
    closers.push(() => leaseStore.close());
    const node = new ClusterNode(counterOf(TYPE), {
      nats: nc,
      leaseStore,
      shardCount: 8,
      rebalanceEveryMs: 200,
      handoverTimeoutMs: 1_000,
      stopTimeoutMs: 3_000,
      logger: silentLogger,
      registry: { evtLog: log, logger: silentLogger },
    });
    closers.push(() => node.stop());
    await node.start();
    await eventually(() => node.shards.length === 8);
    return { node, log };
  }

  for (const outage of ["server killed", "partition"] as const) {
    it(`settles with the node holding every shard and entities active (${outage})`, async () => {
      const { node, log } = await runningNode();
      const ids = Array.from({ length: 12 }, (_, i) => `e${i}`);
      for (const id of ids) await node.send(id, { type: "inc", by: 1 });
      if (outage === "server killed") {
        await server!.kill();
        proxy!.cut();
      } else {
        proxy!.swallow = "toServer";
      }
      const inFlight = ids.slice(0, 4).map((id) =>
        node.send(id, { type: "inc", by: 100 }).then(
          () => "ok" as const,
          (err: unknown) => err,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      const stopped = node.stop();
      // Liveness bound: stopTimeoutMs is 3 s; the old code took 15-21 s here (the stop waited out the
      // cluster store's, the lease store's and the drain's timeouts one after the other).
      const late = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), 10_000).unref());
      expect(await Promise.race([stopped.then(() => "stopped" as const), late])).toBe("stopped");
      console.log(
        `stop() during the outage (${outage}) took ${Date.now() - started} ms (stopTimeoutMs 3000)`,
      );
      expect(node.state).toBe("stopped");
      // The service then closes its log (SIGTERM): publishes still waiting are abandoned.
      await log.close();
      // Commands sent during the outage have settled: applied, or a typed error.
      const outcomes = await Promise.all(inFlight);
      console.log(
        `in flight: ${outcomes.map((o) => (o === "ok" ? o : (o as { code?: string }).code)).join(", ")}`,
      );
      for (const outcome of outcomes) {
        if (outcome !== "ok") expect(isEventSourcedError(outcome), String(outcome)).toBe(true);
      }
      // What was acknowledged before the outage is stored.
      if (outage === "server killed") await server!.restart();
      else {
        proxy!.heal();
        proxy!.cut();
      }
      const reader = await NatsEvtLog.connect({ servers: server!.url, logger: silentLogger });
      closers.push(() => reader.close());
      for (const id of ids) expect((await increments(reader, TYPE, id)).slice(0, 1)).toEqual([1]);
    }, 120_000);
  }
});
