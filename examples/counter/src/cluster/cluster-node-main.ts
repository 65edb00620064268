#!/usr/bin/env node
// One process of the counter cluster (`npm run counter:cluster` starts three): a ClusterNode serving the
// counter entity on PostgreSQL (shard leases in the same database, strict fencing on), routing on NATS.
// Prints one JSON line per shard acquired or ended (times from process.hrtime.bigint(), comparable across
// the processes of one host); SIGTERM hands its shards over.
// Usage: node dist/cluster/cluster-node-main.js <databaseUrl> <natsUrl> <schema> <cluster> <nodeId> [minMembers]
import { ClusterNode, NatsClusterStore } from "@eventsourced/cluster";
import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import { connect } from "@nats-io/transport-node";
import { counter } from "../counter.js";
import { counterBinarizer } from "../counter-binarizer.js";
import { CLUSTER_POLL_MS, CLUSTER_SHARDS, CLUSTER_TTL_MS } from "./cluster-settings.js";

const [databaseUrl, natsUrl, schema, cluster, nodeId, minMembers = "3"] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string | undefined,
];
const line = (value: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v))}\n`);
};

/** Starts the node; a failure (a server that cannot be reached, say) is one line on stderr and exit 1. */
async function main(): Promise<void> {
  const leaseStore = await PostgresLeaseStore.create({
    connectionString: databaseUrl,
    schema,
    ttlMs: CLUSTER_TTL_MS,
  });
  const evtLog = await PostgresEvtLog.create({
    connectionString: databaseUrl,
    schema,
    maxConnections: 4,
    logger: silentLogger,
    // Strict fencing (L2): no event commits under a superseded shard lease.
    fencing: { leaseTable: leaseStore.table },
  });
  const nats = await connect({ servers: natsUrl, name: nodeId });
  // A dead member leaves the assignment when its heartbeat expires: with the lease TTL, a killed process's
  // shards move after about one TTL (plus a poll), not after the default 6 s member TTL.
  const store = await NatsClusterStore.create(nats, {
    memberTtlMs: CLUSTER_TTL_MS,
    bucketPrefix: `counter-cluster-${cluster}`,
  });
  const node = new ClusterNode(counter, {
    cluster,
    nats,
    store,
    leaseStore,
    nodeId,
    shardCount: CLUSTER_SHARDS,
    minMembers: Number(minMembers),
    rebalanceEveryMs: 250,
    lease: { pollMs: CLUSTER_POLL_MS },
    logger: silentLogger,
    registry: { evtLog, binarizer: counterBinarizer("protobuf"), logger: silentLogger },
    fenceLog: (log, tenure) => (log as PostgresEvtLog).fenced(tenure),
    onShardAcquired: (e) => line({ ev: "acquired", shard: e.shard, epoch: e.epoch, at: e.at }),
    onShardEnded: (e) => line({ ev: "ended", shard: e.shard, epoch: e.epoch, at: e.at, reason: e.reason }),
  });
  process.once("SIGTERM", () => {
    void (async () => {
      await node.stop();
      await evtLog.close();
      await leaseStore.close();
      await nats.close();
      process.exit(0);
    })();
  });
  await node.start();
  line({ ev: "ready" });
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${nodeId}: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(1);
});
