import {
  ClusterClient,
  NatsTransport,
  RemoteCommandError,
  ShardConfigMismatchError,
  shardOf,
} from "@eventsourced/cluster";
import { isEventSourcedError } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterEnv, eventually, sharingNodeIds } from "./support/cluster-env.js";

describe("Shard ownership", () => {
  let env: ClusterEnv;
  afterEach(async () => {
    await env?.teardown();
  });

  it("three nodes own every shard exactly once between them", async () => {
    env = await new ClusterEnv().setup();
    const log = new InMemoryEvtLog();
    const nodes = sharingNodeIds(env.typeName, 16, 3).map((nodeId) =>
      env.node(log, { nodeId, minMembers: 3 }),
    );
    await Promise.all(nodes.map((node) => node.start()));
    const owned = () => nodes.flatMap((node) => node.shards);
    await eventually(() => owned().length === 16 && nodes.every((node) => node.shards.length > 0));
    expect(new Set(owned()).size).toBe(16);
  });

  it("routes a command from a node that does not own the entity to its owner", async () => {
    env = await new ClusterEnv().setup();
    const log = new InMemoryEvtLog();
    const [a, b] = sharingNodeIds(env.typeName, 16, 2).map((nodeId) =>
      env.node(log, { nodeId, minMembers: 2 }),
    ) as [ReturnType<ClusterEnv["node"]>, ReturnType<ClusterEnv["node"]>];
    await Promise.all([a.start(), b.start()]);
    await eventually(
      () => a.shards.length + b.shards.length === 16 && b.shards.length > 0 && a.shards.length > 0,
    );
    const ids = Array.from({ length: 40 }, (_, i) => `e-${i}`);
    for (const id of ids) {
      expect(await a.send(id, { type: "inc", by: 2 })).toMatchObject({ kind: "accepted", reply: 2 });
      expect(await b.send(id, { type: "inc", by: 3 })).toMatchObject({ kind: "accepted", reply: 5 });
    }
    // Each id lives in exactly one of the two registries.
    for (const id of ids) {
      expect([a.registry.phase(id), b.registry.phase(id)].filter((p) => p !== undefined)).toHaveLength(1);
    }
  });

  it("refuses to start with another shard count than the one recorded, naming both", async () => {
    env = await new ClusterEnv().setup();
    const log = new InMemoryEvtLog();
    await env.node(log, { shardCount: 16 }).start();
    const other = env.node(log, { shardCount: 32 });
    const error = await other.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardConfigMismatchError);
    expect(isEventSourcedError(error, "SHARD_CONFIG_MISMATCH")).toBe(true);
    expect((error as Error).message).toMatch(
      /16 shards hashed by fnv1a32-utf8.*32 shards hashed by fnv1a32-utf8/,
    );
    expect(other.shards).toEqual([]);
    expect(other.state).toBe("stopped");
  });

  it("a client with another shard count than the recorded one refuses to start, and to send", async () => {
    env = await new ClusterEnv().setup();
    const node = env.node(new InMemoryEvtLog());
    await node.start();
    await eventually(() => node.shards.length === 16);
    const options = { typeName: env.typeName, cluster: env.cluster, store: env.store, nats: env.nc };
    const wrong = new ClusterClient({ ...options, shardCount: 8 });
    const error = await wrong.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardConfigMismatchError);
    expect((error as Error).message).toMatch(
      /16 shards hashed by fnv1a32-utf8.*8 shards hashed by fnv1a32-utf8/,
    );
    await expect(wrong.send("e-1", { type: "inc", by: 1 })).rejects.toBeInstanceOf(ShardConfigMismatchError);
    // Without start(), the first send checks.
    const unstarted = new ClusterClient({ ...options, shardCount: 32 });
    await expect(unstarted.send("e-1", { type: "inc", by: 1 })).rejects.toBeInstanceOf(
      ShardConfigMismatchError,
    );
    const right = new ClusterClient({ ...options, shardCount: 16 });
    await right.start();
    expect(await right.send("e-1", { type: "inc", by: 1 })).toMatchObject({ kind: "accepted", reply: 1 });
  });

  it("a client started before every node records nothing: the nodes' shard count wins, the client's is then refused", async () => {
    env = await new ClusterEnv().setup();
    const options = { typeName: env.typeName, cluster: env.cluster, store: env.store, nats: env.nc };
    const early = new ClusterClient({ ...options, shardCount: 8 });
    // Nothing recorded yet: nothing to check against, and the client does not fix the cluster's count.
    await early.start();
    expect(await env.store.shardConfig!(env.cluster)).toBeUndefined();
    const node = env.node(new InMemoryEvtLog());
    await node.start();
    await eventually(() => node.shards.length === 16);
    expect(await env.store.shardConfig!(env.cluster)).toMatchObject({ shardCount: 16 });
    // The early client checks again at its next send, against the node's record.
    await expect(early.send("e-1", { type: "inc", by: 1 })).rejects.toBeInstanceOf(ShardConfigMismatchError);
    const right = new ClusterClient({ ...options, shardCount: 16 });
    expect(await right.send("e-1", { type: "inc", by: 1 })).toMatchObject({ kind: "accepted", reply: 1 });
  });

  it("an owner refuses an id sent by a client computing shards differently (RemoteCommandError, not retried)", async () => {
    env = await new ClusterEnv().setup();
    const node = env.node(new InMemoryEvtLog());
    await node.start();
    await eventually(() => node.shards.length === 16);
    // A transport alone: the client has no store to check its shard count against.
    const wrong = new ClusterClient({
      typeName: env.typeName,
      cluster: env.cluster,
      shardCount: 8,
      transport: new NatsTransport(env.nc),
    });
    const id = Array.from({ length: 100 }, (_, i) => `w-${i}`).find((i) => shardOf(i, 16) >= 8)!;
    const error = await wrong.send(id, { type: "inc", by: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteCommandError);
    expect(error).toMatchObject({ remoteCode: "SHARD_CONFIG_MISMATCH", outcomeUnknown: false });
  });
});
