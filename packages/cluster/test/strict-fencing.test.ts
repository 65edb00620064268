import { silentLogger } from "@eventsourced/core";
import { Header, NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterEach, describe, expect, it } from "vitest";
import { deleteStream, NATS_URL, uniqueName } from "../../evtlog-nats/test/support/nats-test-env.js";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../evtlog-postgres/test/pg-test-database.js";
import { ClusterEnv, eventually, increments } from "./support/cluster-env.js";

describe("strict fencing (L2) by default", () => {
  let env: ClusterEnv | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.allSettled(env?.nodes.map((node) => node.stop()) ?? []);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await env?.teardown();
  });

  it("on PostgreSQL, refuses a write whose shard lease was taken over even while the node still believes it holds it", async () => {
    env = await new ClusterEnv().setup();
    const schema = uniqueSchemaName("cluster_strict");
    const leaseStore = await PostgresLeaseStore.create({
      connectionString: DATABASE_URL,
      schema,
      ttlMs: 10_000,
    });
    const log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 3,
      logger: silentLogger,
      fencing: { leaseTable: leaseStore.table },
    });
    const pool = await testPool(1);
    cleanups.push(async () => {
      await log.close();
      await leaseStore.close();
      await pool.end();
      await dropSchema(schema);
    });
    const node = env.node(log, { leaseStore });
    await node.start();
    await eventually(() => node.shards.length === 16);
    expect(await node.send("s-1", { type: "inc", by: 1 })).toMatchObject({ kind: "accepted", seqNo: 1 });
    // Another owner takes every shard over behind the node's back: its local deadline (L1) has not passed,
    // so only the check inside the write can stop it.
    await pool.query(`UPDATE ${leaseStore.table.qualifiedName} SET owner = 'intruder', epoch = epoch + 1`);
    await expect(node.send("s-1", { type: "inc", by: 2 }, { timeoutMs: 1_500 })).rejects.toThrow();
    expect(await increments(log, env.typeName, "s-1")).toEqual([1]);
  });

  it("on NATS, writes an epoch marker before the first event of an entity it activates, and stamps its events", async () => {
    env = await new ClusterEnv().setup();
    const stream = uniqueName("cluster_markers");
    const log = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name: stream, subjectPrefix: stream },
    });
    cleanups.push(async () => {
      await log.close();
      await deleteStream(env!.nc, stream);
    });
    const node = env.node(log);
    await node.start();
    await eventually(() => node.shards.length === 16);
    expect(await node.send("m-1", { type: "inc", by: 3 })).toMatchObject({ kind: "accepted", seqNo: 1 });
    const jsm = await jetstreamManager(env.nc);
    const subject = `${stream}.${env.typeName}.m-1`;
    const first = await jsm.streams.getMessage(stream, { seq: 1 });
    const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    expect([first?.subject, first?.header.get(Header.Marker)]).toEqual([subject, "0"]);
    expect(last?.header.get(Header.Epoch)).toBe(first?.header.get(Header.Epoch));
    expect(last?.header.get(Header.Owner)).toBe(node.nodeId);
    expect(await increments(log, env.typeName, "m-1")).toEqual([3]);
  });
});
