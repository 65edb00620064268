import {
  ClusterClient,
  ClusterNode,
  ClusterRoutingError,
  type ClusterStore,
  NatsClusterStore,
} from "@eventsourced/cluster";
import { ConfigurationError, defineEntity, emitAndReply, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { Kvm } from "@nats-io/kv";
import { afterEach, describe, expect, it } from "vitest";
import { deleteStream, uniqueName } from "../../evtlog-nats/test/support/nats-test-env.js";
import { ClusterEnv, eventually } from "./support/cluster-env.js";

type Cmd = { readonly type: "inc"; readonly by: number; readonly delayMs: number };

/** A counter whose commands take `delayMs` to decide: a slow owner. */
function slowCounter(typeName: string) {
  return defineEntity<number, Cmd, { by: number }, number, never>({
    typeName,
    initialState: () => 0,
    handleCmd: async (_state, cmd) => {
      await new Promise((resolve) => setTimeout(resolve, cmd.delayMs));
      return emitAndReply<number, { by: number }, number>([{ by: cmd.by }], (s) => s);
    },
    handleEvt: (state, evt) => state + evt.by,
  });
}

describe("Retries", () => {
  let env: ClusterEnv;
  afterEach(async () => {
    await env?.teardown();
  });

  function slowNode(options: { maxInFlight?: number } = {}) {
    const node = new ClusterNode(slowCounter(env.typeName), {
      cluster: env.cluster,
      nats: env.nc,
      leaseStore: env.leaseStore,
      store: env.store,
      shardCount: 16,
      logger: silentLogger,
      ...options,
      registry: { evtLog: new InMemoryEvtLog(), logger: silentLogger },
    });
    env.nodes.push(node as never);
    return node;
  }

  it("a reply lost to a slow owner is ROUTING_FAILED with outcomeUnknown; the same command id then applies once", async () => {
    env = await new ClusterEnv().setup();
    const node = slowNode();
    await node.start();
    await eventually(() => node.shards.length === 16);
    const client = new ClusterClient({
      typeName: env.typeName,
      cluster: env.cluster,
      shardCount: 16,
      nats: env.nc,
      retry: { attemptTimeoutMs: 50 },
    });
    const slow = { type: "inc", by: 1, delayMs: 400 } as const;
    const error = await client
      .send("s", slow, { commandId: "slow-1", timeoutMs: 120 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterRoutingError);
    expect(error).toMatchObject({ code: "ROUTING_FAILED", outcomeUnknown: true, commandId: "slow-1" });
    // However often it is retried meanwhile, the command is applied once.
    const retries = await Promise.all(
      [1, 2, 3].map(() => client.send("s", slow, { commandId: "slow-1", timeoutMs: 10_000 })),
    );
    expect(retries.map((r) => r.kind).sort()).toEqual(["duplicate", "duplicate", "duplicate"]);
    // A new command (its own id) through a client whose attempts may take as long as a loaded machine needs:
    // with 50 ms attempts, a retry of its own first attempt could find it applied and answer "duplicate".
    const patient = new ClusterClient({
      typeName: env.typeName,
      cluster: env.cluster,
      shardCount: 16,
      nats: env.nc,
    });
    expect(await patient.send("s", { type: "inc", by: 10, delayMs: 0 }, { timeoutMs: 10_000 })).toMatchObject(
      {
        kind: "accepted",
        reply: 11,
      },
    );
  });

  it("an owner over maxInFlight answers Overloaded and the senders back off until it has room", async () => {
    env = await new ClusterEnv().setup();
    const node = slowNode({ maxInFlight: 1 });
    await node.start();
    await eventually(() => node.shards.length === 16);
    const client = new ClusterClient({
      typeName: env.typeName,
      cluster: env.cluster,
      shardCount: 16,
      nats: env.nc,
    });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        client.send(`o-${i}`, { type: "inc", by: 1, delayMs: 30 }, { timeoutMs: 20_000 }),
      ),
    );
    expect(results.every((r) => r.kind === "accepted")).toBe(true);
  });

  it("refuses a members bucket whose TTL differs (NATS 2.9 has only bucket TTLs)", async () => {
    env = await new ClusterEnv().setup();
    const prefix = uniqueName("clt_ttl");
    await NatsClusterStore.create(env.nc, { memberTtlMs: 3_000, bucketPrefix: prefix });
    try {
      // A bucket of the name another TTL would use, created with a different TTL (by hand, or an old version).
      await new Kvm(env.nc).create(`${prefix}-members-4000ms`, { ttl: 9_000, history: 1 });
      const error = await NatsClusterStore.create(env.nc, { memberTtlMs: 4_000, bucketPrefix: prefix }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(/TTL \(max_age\) is 9000 ms, not 4000 ms/);
    } finally {
      for (const bucket of ["config", "members-3000ms", "members-4000ms"]) {
        await deleteStream(env.nc, `KV_${prefix}-${bucket}`);
      }
    }
  });
});

describe("A cluster store that never answers", () => {
  let env: ClusterEnv;
  afterEach(async () => {
    await env?.teardown();
  });

  it("costs one rebalancing round, not every later one", async () => {
    env = await new ClusterEnv().setup();
    let calls = 0;
    const store = env.store;
    const hanging: ClusterStore = {
      memberTtlMs: store.memberTtlMs,
      recordShardConfig: (cluster, config) => store.recordShardConfig(cluster, config),
      heartbeat: (cluster, type, member) => store.heartbeat(cluster, type, member),
      leave: (cluster, type, member) => store.leave(cluster, type, member),
      members: (cluster, type) =>
        calls++ === 0 ? new Promise<string[]>(() => {}) : store.members(cluster, type),
    };
    const node = env.node(new InMemoryEvtLog(), { store: hanging });
    await node.start();
    await eventually(() => node.shards.length === 16);
    expect(calls).toBeGreaterThan(1);
  });
});
