/**
 * `npm run bench:cluster [-- --quick]`: what routing a command through `@eventsourced/cluster` costs, and
 * how long a graceful handover takes per shard. Loopback NATS (`NATS_URL`), in-memory log.
 *
 * 1. Routing overhead: a `ClusterClient` (on a connection of its own, as another process would be) sends to
 *    a `ClusterNode` owning every shard; the baseline is raw NATS request/reply between the same two
 *    connections whose responder does the same entity work (JSON-decode the command, `registry.send` with
 *    the command id as idempotency key, which any client that retries needs for at-most-once, JSON-encode
 *    the result). So the difference is the cluster's routing: envelope, shard and lease checks, fenced log,
 *    retry loop. A second baseline sends without the key, to show what at-most-once itself costs.
 *    1 worker (latency) and 64 workers (throughput); rounds rotate all three.
 *    Targets (issue 12): +p50 <= 0.3 ms, +p99 <= 1.5 ms, throughput >= 0.8 x raw.
 * 2. Graceful handover: nodes A and B share 64 shards while 32 clients send to 200 entities through a
 *    connection of their own; A stops and B takes A's shards over. Per shard: from A's release of its lease
 *    to B's acquisition, and from `stop()` to B serving it. Failed client requests are counted (should be 0).
 */
import {
  ClusterClient,
  ClusterNode,
  type ClusterNodeOptions,
  NatsClusterStore,
  rendezvousOwner,
} from "@eventsourced/cluster";
import {
  defineEntity,
  EntityRegistry,
  emitAndReply,
  jsonFromBytes,
  jsonToBytes,
  reply,
  silentLogger,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { closedLoop, type Measured } from "./closed-loop.js";
import { comparisonRow, median, quick, rotateRounds } from "./measure.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const ROUNDS = quick ? 3 : 7;
const WINDOW_MS = quick ? 500 : 2_000;
const SHARDS = 64;
const ENTITIES = 200;

type Cmd = { readonly type: "inc"; readonly by: number } | { readonly type: "get" };
type Evt = { readonly by: number };
const counter = defineEntity<number, Cmd, Evt, number, never>({
  typeName: "benchClusterCounter",
  initialState: () => 0,
  handleCmd: (state, cmd) =>
    cmd.type === "inc" ? emitAndReply<number, Evt, number>([{ by: cmd.by }], (s) => s) : reply(state),
  handleEvt: (state, evt) => state + evt.by,
});
const INC: Cmd = { type: "inc", by: 1 };
const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

interface Cluster {
  readonly server: NatsConnection;
  readonly client: NatsConnection;
  readonly leaseStore: NatsLeaseStore;
  readonly store: NatsClusterStore;
  readonly cluster: string;
  readonly buckets: string[];
}

async function setup(name: string): Promise<Cluster> {
  const server = await connect({ servers: NATS_URL, name: "bench-cluster-server" });
  const client = await connect({ servers: NATS_URL, name: "bench-cluster-client" });
  const leaseBucket = `bench-cluster-leases-${name}-${suffix}`;
  const prefix = `bench-cluster-${name}-${suffix}`;
  const leaseStore = await NatsLeaseStore.create({ connection: server, bucket: leaseBucket, ttlMs: 3_000 });
  const store = await NatsClusterStore.create(server, { memberTtlMs: 3_000, bucketPrefix: prefix });
  const buckets = [leaseBucket, `${prefix}-config`, `${prefix}-members-3000ms`];
  return { server, client, leaseStore, store, cluster: `bench-${name}-${suffix}`, buckets };
}

async function teardown(c: Cluster): Promise<void> {
  await c.leaseStore.close();
  const jsm = await jetstreamManager(c.server);
  for (const bucket of c.buckets) await jsm.streams.delete(`KV_${bucket}`).catch(() => {});
  await c.client.close();
  await c.server.close();
}

function node(c: Cluster, evtLog: InMemoryEvtLog, extra: Partial<ClusterNodeOptions<number, Evt>> = {}) {
  return new ClusterNode(counter, {
    cluster: c.cluster,
    nats: c.server,
    leaseStore: c.leaseStore,
    store: c.store,
    shardCount: SHARDS,
    rebalanceEveryMs: 250,
    logger: silentLogger,
    registry: { evtLog, logger: silentLogger },
    ...extra,
  });
}

async function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// 1. Routing overhead.

async function routingOverhead(rows: ResultRow[]): Promise<void> {
  const c = await setup("routing");
  const owner = node(c, new InMemoryEvtLog());
  await owner.start();
  await waitFor(() => owner.shards.length === SHARDS);
  const client = new ClusterClient({
    typeName: counter.typeName,
    cluster: c.cluster,
    shardCount: SHARDS,
    nats: c.client,
    store: c.store,
  });
  // The baseline: raw request/reply between the same two connections, the same entity work behind it.
  const rawRegistry = new EntityRegistry(counter, { evtLog: new InMemoryEvtLog(), logger: silentLogger });
  const rawSubject = `bench.raw.${suffix}`;
  const rawSub = c.server.subscribe(rawSubject, {
    queue: "raw",
    callback: (_err, msg) => {
      const { id, key, cmd } = jsonFromBytes<{ id: string; key?: string; cmd: Cmd }>(msg.data);
      const sent =
        key === undefined ? rawRegistry.send(id, cmd) : rawRegistry.send(id, cmd, { idempotencyKey: key });
      sent.then((result) => msg.respond(jsonToBytes(result)));
    },
  });
  const ids = Array.from({ length: ENTITIES }, (_, i) => `e${i}`);
  let seq = 0;
  const ours = (workers: number) => () =>
    closedLoop({ workers, durationMs: WINDOW_MS, warmupMs: 200 }, async (worker) => {
      const result = await client.send(ids[worker % ENTITIES]!, INC, { commandId: `c${seq++}` });
      if (result.kind !== "accepted") throw new Error(`unexpected ${result.kind}`);
    });
  const raw = (workers: number, withKey: boolean) => () =>
    closedLoop({ workers, durationMs: WINDOW_MS, warmupMs: 200 }, async (worker) => {
      const id = ids[worker % ENTITIES]!;
      const body = withKey ? { id, key: `k${seq++}`, cmd: INC } : { id, cmd: INC };
      const msg = await c.client.request(rawSubject, jsonToBytes(body), { timeout: 5_000 });
      if (jsonFromBytes<{ kind: string }>(msg.data).kind !== "accepted") throw new Error("unexpected result");
    });
  await ours(8)();
  await raw(8, true)();
  for (const workers of [1, 64]) {
    const scenario = `routed command, ${workers} worker${workers === 1 ? "" : "s"}`;
    const results = await rotateRounds<"ours" | "raw" | "rawNoKey", Measured>(ROUNDS, {
      ours: ours(workers),
      raw: raw(workers, true),
      rawNoKey: raw(workers, false),
    });
    const o = results.get("ours")!;
    const r = results.get("raw")!;
    const n = results.get("rawNoKey")!;
    const fields = (metric: string, unit: string) => ({
      scenario,
      metric,
      unit,
      series: "cluster-vs-raw-nats",
    });
    rows.push(
      comparisonRow(fields("throughput", "commands/s"), (m) => m.perSecond, o, r),
      comparisonRow(fields("p50", "ms"), (m) => m.p50Ms, o, r),
      comparisonRow(fields("p99", "ms"), (m) => m.p99Ms, o, r),
      comparisonRow(
        fields("added p50", "ms"),
        (x) => x,
        o.map((m, i) => m.p50Ms - r[i]!.p50Ms),
      ),
      comparisonRow(
        fields("added p99", "ms"),
        (x) => x,
        o.map((m, i) => m.p99Ms - r[i]!.p99Ms),
      ),
      comparisonRow(fields("cpu-per-command", "µs"), (m) => m.cpuMicros, o, r),
      comparisonRow(
        fields("throughput vs raw without idempotency key", "commands/s"),
        (m) => m.perSecond,
        o,
        n,
      ),
      comparisonRow(fields("cpu-per-command vs raw without idempotency key", "µs"), (m) => m.cpuMicros, o, n),
    );
    console.log(
      `${scenario}: ${Math.round(median(o.map((m) => m.perSecond)))} vs raw ${Math.round(median(r.map((m) => m.perSecond)))} commands/s; ` +
        `p50 ${median(o.map((m) => m.p50Ms)).toFixed(3)} vs ${median(r.map((m) => m.p50Ms)).toFixed(3)} ms; ` +
        `p99 ${median(o.map((m) => m.p99Ms)).toFixed(3)} vs ${median(r.map((m) => m.p99Ms)).toFixed(3)} ms`,
    );
  }
  await rawSub.drain();
  await rawRegistry.close();
  await owner.stop();
  await teardown(c);
}

// 2. Graceful handover.

async function handover(rows: ResultRow[]): Promise<void> {
  const rounds = quick ? 2 : 5;
  const perShard: number[] = [];
  const fromStop: number[] = [];
  const total: number[] = [];
  let failed = 0;
  let sentDuring = 0;
  for (let round = 0; round < rounds; round++) {
    const c = await setup(`handover${round}`);
    const evtLog = new InMemoryEvtLog();
    const releasedAt = new Map<number, bigint>();
    const acquiredAt = new Map<number, bigint>();
    const a = node(c, evtLog, { onShardEnded: (e) => releasedAt.set(e.shard, e.at) });
    await a.start();
    await waitFor(() => a.shards.length === SHARDS);
    const b = node(c, evtLog, { onShardAcquired: (e) => acquiredAt.set(e.shard, e.at) });
    const client = new ClusterClient({
      typeName: counter.typeName,
      cluster: c.cluster,
      shardCount: SHARDS,
      nats: c.client,
      store: c.store,
    });
    let running = true;
    let n = 0;
    const load = Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let i = 0; running; i++) {
          await client.send(`e${(w * 31 + i) % ENTITIES}`, INC, { commandId: `r${round}-${w}-${i}` }).then(
            () => n++,
            () => failed++,
          );
        }
      }),
    );
    await waitFor(() => n > 500);
    await b.start();
    // B wants its share: A hands it over a few shards per round (the 10 % cap); wait until that settled.
    const members = [a.nodeId, b.nodeId];
    const wanted = Array.from({ length: SHARDS }, (_, s) => s).filter(
      (s) => rendezvousOwner(members, counter.typeName, s) === b.nodeId,
    ).length;
    await waitFor(() => b.shards.length === wanted && a.shards.length === SHARDS - wanted);
    releasedAt.clear();
    acquiredAt.clear();
    const moving = a.shards;
    const before = n;
    const stopAt = process.hrtime.bigint();
    await a.stop();
    await waitFor(() => moving.every((shard) => acquiredAt.has(shard)));
    const doneAt = process.hrtime.bigint();
    sentDuring += n - before;
    running = false;
    await load;
    for (const shard of moving) {
      perShard.push(Number(acquiredAt.get(shard)! - releasedAt.get(shard)!) / 1e6);
      fromStop.push(Number(acquiredAt.get(shard)! - stopAt) / 1e6);
    }
    total.push(Number(doneAt - stopAt) / 1e6);
    await b.stop();
    await teardown(c);
  }
  const scenario = `graceful handover of ${SHARDS} shards, 32 clients`;
  const q = (values: number[], p: number) =>
    [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.ceil(p * values.length) - 1)]!;
  rows.push(
    {
      scenario,
      metric: "release to acquired, p50",
      value: q(perShard, 0.5),
      unit: "ms",
      min: Math.min(...perShard),
      max: Math.max(...perShard),
      rounds,
    },
    { scenario, metric: "release to acquired, p100", value: Math.max(...perShard), unit: "ms", rounds },
    { scenario, metric: "stop() to shard served, p50", value: q(fromStop, 0.5), unit: "ms", rounds },
    { scenario, metric: "stop() to shard served, p100", value: Math.max(...fromStop), unit: "ms", rounds },
    {
      scenario,
      metric: "stop() to all served",
      value: median(total),
      unit: "ms",
      min: Math.min(...total),
      max: Math.max(...total),
      rounds,
    },
    { scenario, metric: "failed client requests", value: failed, unit: "requests", rounds },
    { scenario, metric: "requests during handover", value: sentDuring, unit: "requests", rounds },
  );
  console.log(
    `handover: release to acquired p50 ${q(perShard, 0.5).toFixed(1)} ms, p100 ${Math.max(...perShard).toFixed(1)} ms; ` +
      `stop() to shard served p50 ${q(fromStop, 0.5).toFixed(1)} ms, p100 ${Math.max(...fromStop).toFixed(1)} ms; ${failed} failed requests`,
  );
}

async function main(): Promise<void> {
  console.log(`cluster benchmark (${quick ? "quick" : "full"}): ${ROUNDS} rounds of ${WINDOW_MS} ms`);
  const rows: ResultRow[] = [];
  await routingOverhead(rows);
  await handover(rows);
  const nc = await connect({ servers: NATS_URL });
  const nats = nc.info?.version;
  await nc.close();
  writeResults("cluster", rows, machineFacts(nats === undefined ? {} : { nats }));
}

await main();
