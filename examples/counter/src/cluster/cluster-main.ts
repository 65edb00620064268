#!/usr/bin/env node
// `npm run counter:cluster`: the counter on a cluster of three processes. Starts three cluster nodes
// (cluster-node-main.js) on PostgreSQL and NATS, sends increments with retries from this process, kills one
// node with SIGKILL a third of the way through, and at the end verifies every acknowledged command: each
// counter's value (asked through the cluster) and its log both hold every acknowledged increment exactly
// once. Prints the handover time after the kill. Exit status 0 when everything verifies, 1 otherwise.
// First it measures the throughput (commands/s acknowledged) of 1 process and of 3 processes on the same
// closed-loop workload (THROUGHPUT_SECONDS each, THROUGHPUT_CONCURRENCY senders; 0 seconds skips it).
// Environment: DATABASE_URL, NATS_URL, COUNTERS (200), RUN_SECONDS (12), CONCURRENCY (16),
// THROUGHPUT_SECONDS (5), THROUGHPUT_CONCURRENCY (64).
import { redactUrl } from "@eventsourced/cli/config";
import { ClusterClient, NatsClusterStore } from "@eventsourced/cluster";
import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { COUNTER_TYPE_NAME, inc } from "../counter.js";
import { CLUSTER_POLL_MS, CLUSTER_SHARDS, CLUSTER_TTL_MS } from "./cluster-settings.js";
import { measureThroughput } from "./cluster-throughput.js";
import { NodeProcess, type ShardLine } from "./node-process.js";
import { verifyCounters } from "./verify-counters.js";

const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const counters = Number(process.env.COUNTERS ?? 200);
const seconds = Number(process.env.RUN_SECONDS ?? 12);
const concurrency = Number(process.env.CONCURRENCY ?? 16);
const throughputSeconds = Number(process.env.THROUGHPUT_SECONDS ?? 5);
const throughputConcurrency = Number(process.env.THROUGHPUT_CONCURRENCY ?? 64);
const suffix = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
const schema = `counter_cluster_${suffix}`;
const cluster = `counter-${suffix}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (text: string) => process.stdout.write(`${text}\n`);

const nats = await connect({ servers: natsUrl, name: "counter-cluster-client" }).catch((error: unknown) => {
  say(
    `counter:cluster failed: cannot connect to NATS at ${redactUrl(natsUrl)}: ${(error as Error).message ?? error}`,
  );
  process.exit(1);
});
if (throughputSeconds > 0) {
  const perSecond: number[] = [];
  for (const processes of [1, 3]) {
    const workload = { counters, concurrency: throughputConcurrency, seconds: throughputSeconds };
    perSecond.push(await measureThroughput({ databaseUrl, natsUrl, nats, processes, ...workload }));
  }
  const [one, three] = perSecond as [number, number];
  say(
    `throughput (${counters} counters, ${throughputConcurrency} senders, ${throughputSeconds} s): ` +
      `1 process ${Math.round(one)} commands/s, 3 processes ${Math.round(three)} commands/s ` +
      `(x${(three / one).toFixed(2)})`,
  );
}
const shardLines: ShardLine[] = [];
const nodes = [1, 2, 3].map(
  (n) => new NodeProcess([databaseUrl, natsUrl, schema, cluster, `node-${n}`], `node-${n}`, shardLines),
);
const store = await NatsClusterStore.create(nats, {
  memberTtlMs: CLUSTER_TTL_MS,
  bucketPrefix: `counter-cluster-${cluster}`,
});
const client = new ClusterClient({
  typeName: COUNTER_TYPE_NAME,
  cluster,
  shardCount: CLUSTER_SHARDS,
  nats,
  store,
});
let failed = false;
try {
  await Promise.all(nodes.map((node) => node.ready));
  say(
    `counter:cluster: 3 processes, ${CLUSTER_SHARDS} shards, lease TTL ${CLUSTER_TTL_MS} ms, schema ${schema}`,
  );
  // Acknowledged and unknown (budget spent) increments per counter.
  const acked = new Map<string, number[]>();
  const unknown = new Map<string, number>();
  let running = true;
  let sent = 0;
  const ids = Array.from({ length: counters }, (_, i) => `c-${i}`);
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    for (let n = 0; running; n++) {
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      sent++;
      try {
        const result = await client.send(id, inc(1), { commandId: `w${w}-${n}`, timeoutMs: 20_000 });
        acked.set(id, [...(acked.get(id) ?? []), result.seqNo]);
      } catch {
        unknown.set(id, (unknown.get(id) ?? 0) + 1);
      }
    }
  });
  const started = Date.now();
  await sleep((seconds * 1000) / 3);
  const victim = nodes.find((node) => node.shards().length > 0) ?? nodes[0]!;
  const held = victim.shards();
  const killedAt = process.hrtime.bigint();
  await victim.kill9();
  say(`killed ${victim.name} (kill -9) holding ${held.length} shards`);
  await sleep((seconds * 2000) / 3);
  running = false;
  await Promise.all(workers);
  const elapsed = (Date.now() - started) / 1000;
  const handovers = held.map((shard) => {
    const next = shardLines.find((l) => l.ev === "acquired" && l.shard === shard && l.at > killedAt);
    return next === undefined ? Number.POSITIVE_INFINITY : Number(next.at - killedAt) / 1e6;
  });
  const worst = Math.max(...handovers);
  const total = [...acked.values()].reduce((sum, seqNos) => sum + seqNos.length, 0);
  say(`${sent} commands in ${elapsed.toFixed(1)} s (${Math.round(sent / elapsed)}/s), ${total} acknowledged`);
  say(
    `handover after kill -9: p100 ${Math.round(worst)} ms over ${held.length} shards ` +
      `(target TTL + poll + 500 ms = ${CLUSTER_TTL_MS + CLUSTER_POLL_MS + 500} ms)`,
  );
  const log = await PostgresEvtLog.create({
    connectionString: databaseUrl,
    schema,
    maxConnections: 2,
    logger: silentLogger,
    setup: false,
  });
  try {
    const mismatches = await verifyCounters({ ids, acked, unknown, client, log });
    if (mismatches.length === 0)
      say(`verified: every acknowledged increment is in each of the ${ids.length} counters exactly once`);
    else {
      failed = true;
      for (const m of mismatches.slice(0, 20)) say(`MISMATCH ${m}`);
    }
  } finally {
    await log.close();
  }
  if (!Number.isFinite(worst)) {
    failed = true;
    say("a shard of the killed process was never taken over");
  }
} catch (err) {
  failed = true;
  say(`counter:cluster failed: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  client.stop();
  await Promise.all(nodes.map((node) => node.terminate()));
  // The nodes' membership buckets (see cluster-node-main.ts).
  const jsm = await jetstreamManager(nats);
  for (const bucket of ["config", `members-${CLUSTER_TTL_MS}ms`]) {
    await jsm.streams.delete(`KV_counter-cluster-${cluster}-${bucket}`).catch(() => false);
  }
  await nats.close();
  if (process.env.KEEP_SCHEMA === undefined) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await pool.end();
  }
}
process.exit(failed ? 1 : 0);
