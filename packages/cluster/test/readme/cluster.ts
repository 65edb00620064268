// The examples of packages/cluster/README.md, run by ../readme-example.test.ts.
// #region quick-start
import { ClusterNode } from "@eventsourced/cluster";
import { defineEntity, emitAndReply, reply } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { connect } from "@nats-io/transport-node";

type Cmd = { readonly type: "inc"; readonly by: number } | { readonly type: "get" };
type Evt = { readonly type: "increased"; readonly by: number };

export const counter = defineEntity<number, Cmd, Evt, number, never>({
  typeName: "counter",
  initialState: () => 0,
  handleCmd: (state, cmd) =>
    cmd.type === "inc"
      ? emitAndReply<number, Evt, number>([{ type: "increased", by: cmd.by }], (s) => s)
      : reply(state),
  handleEvt: (state, evt) => state + evt.by,
});

/** Runs one process of the cluster; every process runs the same code. */
export async function startCounterNode(
  natsUrl: string,
  databaseUrl: string,
  schema: string,
  cluster: string,
) {
  const nats = await connect({ servers: natsUrl });
  const evtLog = await PostgresEvtLog.create({ connectionString: databaseUrl, schema, maxConnections: 4 });
  const leaseStore = await NatsLeaseStore.create({ connection: nats, ttlMs: 5_000 });
  const node = new ClusterNode(counter, {
    cluster,
    nats,
    leaseStore,
    registry: { evtLog, passivation: { idleAfterMs: 60_000 } },
    stopOnSignals: ["SIGTERM"], // hand the shards over, then exit
  });
  await node.start(); // throws ShardConfigMismatchError if this process computes shards differently
  return {
    node,
    // From any process: routed to the entity's owner, retried within 5 s, applied at most once.
    inc: (id: string, by: number, requestId: string) =>
      node.send(id, { type: "inc", by }, { commandId: requestId, timeoutMs: 5_000 }),
    close: async () => {
      await node.stop();
      await leaseStore.close();
      await evtLog.close();
      await nats.close();
    },
  };
}

// #endregion quick-start

// #region client
import { ClusterClient } from "@eventsourced/cluster";

/** A process that hosts no entities (an API gateway) sends through a client. */
export async function sendFromGateway(natsUrl: string, cluster: string, id: string) {
  const nats = await connect({ servers: natsUrl });
  try {
    const counters = new ClusterClient({ typeName: "counter", cluster, nats });
    return await counters.send(id, { type: "get" }, { timeoutMs: 5_000 });
  } finally {
    await nats.close();
  }
}

// #endregion client

// #region postgres
import { NatsTransport } from "@eventsourced/cluster";
import { PostgresClusterStore } from "@eventsourced/cluster/postgres";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import type { NatsConnection } from "@nats-io/transport-node";

/** Events, leases, members and the shard function in PostgreSQL; NATS core (no JetStream) only routes. */
export async function startOnPostgres(nats: NatsConnection, connectionString: string, schema: string) {
  const leaseStore = await PostgresLeaseStore.create({ connectionString, schema, ttlMs: 5_000 });
  // Strict fencing (L2): every persist checks its shard's lease row in the same transaction.
  const fencing = { leaseTable: leaseStore.table };
  const evtLog = await PostgresEvtLog.create({ connectionString, schema, maxConnections: 4, fencing });
  const store = await PostgresClusterStore.create({ connectionString, schema });
  const transport = new NatsTransport(nats);
  const node = new ClusterNode(counter, { transport, store, leaseStore, registry: { evtLog } });
  await node.start();
  return {
    node,
    close: async () => {
      await node.stop();
      await Promise.all([store.close(), leaseStore.close(), evtLog.close()]);
    },
  };
}
// #endregion postgres
