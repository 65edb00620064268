import { ClusterClient, NatsClusterStore } from "@eventsourced/cluster";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pg from "pg";
import { COUNTER_TYPE_NAME, inc } from "../counter.js";
import { CLUSTER_SHARDS, CLUSTER_TTL_MS } from "./cluster-settings.js";
import { NodeProcess, type ShardLine } from "./node-process.js";

/** What {@link measureThroughput} runs: the same workload on a cluster of `processes` node processes. */
export interface ThroughputRun {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly nats: NatsConnection;
  readonly processes: number;
  readonly counters: number;
  readonly concurrency: number;
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Commands per second acknowledged by a fresh cluster of `processes` nodes (its own schema and cluster):
 * `concurrency` senders in this process, each sending increments of random counters one after the other
 * for `seconds`, once every shard has an owner. The nodes are stopped (SIGTERM) and their schema dropped.
 */
export async function measureThroughput(run: ThroughputRun): Promise<number> {
  const suffix = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const schema = `counter_tput_${suffix}`;
  const cluster = `counter-tput-${suffix}`;
  const lines: ShardLine[] = [];
  const nodes = Array.from(
    { length: run.processes },
    (_, n) =>
      new NodeProcess(
        [run.databaseUrl, run.natsUrl, schema, cluster, `tput-${n + 1}`, String(run.processes)],
        `tput-${n + 1}`,
        lines,
      ),
  );
  const store = await NatsClusterStore.create(run.nats, {
    memberTtlMs: CLUSTER_TTL_MS,
    bucketPrefix: `counter-cluster-${cluster}`,
  });
  const client = new ClusterClient({
    typeName: COUNTER_TYPE_NAME,
    cluster,
    shardCount: CLUSTER_SHARDS,
    nats: run.nats,
    store,
  });
  try {
    await Promise.all(nodes.map((node) => node.ready));
    const owned = () => new Set(nodes.flatMap((node) => node.shards())).size;
    for (let waited = 0; owned() < CLUSTER_SHARDS; waited += 50) {
      if (waited > 60_000) throw new Error(`only ${owned()} of ${CLUSTER_SHARDS} shards owned after 60 s`);
      await sleep(50);
    }
    const ids = Array.from({ length: run.counters }, (_, i) => `t-${i}`);
    // Warm up: every counter recovered once, so that both runs measure steady-state commands.
    await Promise.all(ids.map((id) => client.send(id, inc(1), { timeoutMs: 30_000 })));
    let running = true;
    let acked = 0;
    const workers = Array.from({ length: run.concurrency }, async () => {
      while (running) {
        const id = ids[Math.floor(Math.random() * ids.length)]!;
        try {
          await client.send(id, inc(1), { timeoutMs: 20_000 });
          acked++;
        } catch {
          // not counted
        }
      }
    });
    const started = performance.now();
    await sleep(run.seconds * 1000);
    running = false;
    const ackedInTime = acked;
    const elapsed = (performance.now() - started) / 1000;
    await Promise.all(workers);
    return ackedInTime / elapsed;
  } finally {
    client.stop();
    await Promise.all(nodes.map((node) => node.terminate()));
    const jsm = await jetstreamManager(run.nats);
    for (const bucket of ["config", `members-${CLUSTER_TTL_MS}ms`]) {
      await jsm.streams.delete(`KV_counter-cluster-${cluster}-${bucket}`).catch(() => false);
    }
    const pool = new pg.Pool({ connectionString: run.databaseUrl, max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await pool.end();
  }
}
