import { ClusterNode, NatsTransport, ShardConfigMismatchError } from "@eventsourced/cluster";
import { PostgresClusterStore } from "@eventsourced/cluster/postgres";
import { silentLogger } from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats } from "../../evtlog-nats/test/support/nats-test-env.js";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "../../evtlog-postgres/test/pg-test-database.js";
import { counterOf, eventually, increments, sharingNodeIds } from "./support/cluster-env.js";

describe("A PostgreSQL deployment routing over NATS core", () => {
  const schema = uniqueSchemaName("cluster_pg");
  let nc: NatsConnection;
  let evtLog: PostgresEvtLog;
  let leaseStore: PostgresLeaseStore;
  let store: PostgresClusterStore;
  const nodes: ClusterNode<number, unknown, never>[] = [];

  beforeAll(async () => {
    nc = await connectTestNats();
    evtLog = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 2,
      logger: silentLogger,
    });
    leaseStore = await PostgresLeaseStore.create({ connectionString: DATABASE_URL, schema, ttlMs: 2_000 });
    store = await PostgresClusterStore.create({ connectionString: DATABASE_URL, schema, memberTtlMs: 3_000 });
  });
  afterAll(async () => {
    await Promise.allSettled(nodes.map((node) => node.stop()));
    await store?.close();
    await leaseStore?.close();
    await evtLog?.close();
    await nc?.close();
    await dropSchema(schema);
  });

  it("records the shard function once when many processes start together, and every one reads it back", async () => {
    const racing = await PostgresClusterStore.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 4,
    });
    try {
      for (let round = 0; round < 5; round++) {
        const cluster = `race-${round}`;
        // Reading records nothing (clients only read).
        expect(await racing.shardConfig(cluster)).toBeUndefined();
        const recorded = await Promise.all(
          Array.from({ length: 8 }, () =>
            racing.recordShardConfig(cluster, { shardCount: 32, hash: "fnv1a32" }),
          ),
        );
        expect(recorded).toEqual(Array.from({ length: 8 }, () => ({ shardCount: 32, hash: "fnv1a32" })));
        expect(await racing.shardConfig(cluster)).toEqual({ shardCount: 32, hash: "fnv1a32" });
      }
    } finally {
      await racing.close();
    }
  });

  it("keeps leases, members and the shard function in PostgreSQL and routes with NatsTransport", async () => {
    const typeName = uniqueTypeName("pgc");
    const transport = new NatsTransport(nc);
    const ids = sharingNodeIds(typeName, 8, 2);
    const make = (shardCount = 8, nodeId?: string) => {
      const node = new ClusterNode(counterOf(typeName), {
        nodeId,
        cluster: "pg",
        transport,
        store,
        leaseStore,
        shardCount,
        minMembers: 2,
        rebalanceEveryMs: 200,
        logger: silentLogger,
        registry: { evtLog, logger: silentLogger },
      });
      nodes.push(node as never);
      return node;
    };
    const [a, b] = [make(8, ids[0]), make(8, ids[1])];
    await Promise.all([a.start(), b.start()]);
    await eventually(
      () => a.shards.length + b.shards.length === 8 && a.shards.length > 0 && b.shards.length > 0,
    );
    expect((await store.members("pg", typeName)).sort()).toEqual([a.nodeId, b.nodeId].sort());
    for (let i = 0; i < 10; i++) {
      expect(await a.send(`p-${i}`, { type: "inc", by: i }, { commandId: `p-${i}` })).toMatchObject({
        reply: i,
      });
      expect(await b.send(`p-${i}`, { type: "inc", by: i }, { commandId: `p-${i}` })).toMatchObject({
        kind: "duplicate",
      });
    }
    expect(await increments(evtLog, typeName, "p-3")).toEqual([3]);
    const wrong = make(16);
    const error = await wrong.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardConfigMismatchError);
    await a.stop();
    expect(await store.members("pg", typeName)).toEqual([b.nodeId]);
    await eventually(() => b.shards.length === 8);
  });
});
