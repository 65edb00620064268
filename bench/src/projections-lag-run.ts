// The lag scenarios of the projections benchmark (projections.bench.ts): a projection and the raw tail under a
// steady write rate from a writer child process (projections-lag.ts).
import { silentLogger } from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { Projection } from "@eventsourced/projections";
import { exactlyOnce, PostgresProjectionStore } from "@eventsourced/projections/postgres";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  type Ack,
  createRawPgTable,
  type LagKind,
  type LagResult,
  lagFigures,
  rawNatsTail,
  rawPgTail,
  runWriter,
} from "./projections-lag.js";
import {
  type Amount,
  amounts,
  binarizer,
  ids,
  type ProjectionsBench,
  timed,
  upsertTotals,
} from "./projections-support.js";
import type { ResultRow } from "./results.js";
import { connectBenchNats } from "./service-versions.js";

/** One lag run: ours (a projection, exactly-once upserts) or the raw tail, on PostgreSQL or NATS. */
export async function lag(
  c: ProjectionsBench,
  system: "pg" | "nats",
  kind: "ours" | "raw",
): Promise<LagResult> {
  const { pool } = c;
  const acked = new Map<number, Ack>();
  const delivered = new Map<number, number>();
  const name = c.fresh(`lag_${system}`);
  const target = { databaseUrl: c.databaseUrl, natsUrl: c.natsUrl, name };
  const load = { rate: c.lagRate, seconds: c.lagWarmupSeconds + c.lagSeconds, entities: 2_000 };
  const warmupMs = c.lagWarmupSeconds * 1000;
  const writerKind = `${kind}-${system}` as LagKind;
  const onAck = (key: number, ack: Ack) => acked.set(key, ack);
  if (kind === "raw") {
    if (system === "pg") await createRawPgTable(pool, name);
    const stop =
      system === "pg"
        ? await rawPgTail(c.databaseUrl, name, delivered)
        : await rawNatsTail(c.natsUrl, name, delivered);
    const achieved = await runWriter(writerKind, target, load, onAck);
    await settle(() => delivered.size >= acked.size);
    c.progress(
      `  raw ${system}: written at ${Math.round(achieved)}/s, ${delivered.size} of ${acked.size} delivered`,
    );
    await stop();
    if (system === "pg") await pool.query(`DROP SCHEMA "${name}" CASCADE`);
    return lagFigures(acked, delivered, achieved, warmupMs);
  }
  const log =
    system === "pg"
      ? // Its own pool, sized, so that it LISTENs as an application's log would (a pool passed without
        // maxConnections is used as one connection, and live reads then poll every 100 ms).
        await PostgresEvtLog.create({
          connectionString: c.databaseUrl,
          maxConnections: 4,
          schema: name,
          logger: silentLogger,
        })
      : await NatsEvtLog.connect({
          servers: c.natsUrl,
          stream: { name, subjectPrefix: name },
          logger: silentLogger,
        });
  const store = await PostgresProjectionStore.create({ pool, schema: name });
  const totals = `"${name}".totals`;
  await pool.query(`CREATE TABLE ${totals} (id text PRIMARY KEY, total bigint NOT NULL)`);
  const projection = Projection.create<Amount>({
    name: "lag",
    evtLog: log,
    type: "lag",
    binarizer,
    handler: timed(
      exactlyOnce<Amount>(store, {
        handle: (evts, tx) => upsertTotals(tx, totals, ids(evts), amounts(evts)),
      }),
      delivered,
    ),
    batch: { maxEvents: c.batch ?? 2_000, maxWaitMs: 2 },
    logger: silentLogger,
  });
  projection.start();
  const achieved = await runWriter(writerKind, target, load, onAck);
  await settle(() => delivered.size >= acked.size);
  c.progress(
    `  ours ${system}: written at ${Math.round(achieved)}/s, ${delivered.size} of ${acked.size} committed`,
  );
  await projection.stop();
  await log.close();
  await pool.query(`DROP SCHEMA "${name}" CASCADE`);
  if (system === "nats") await deleteStream(name);
  return lagFigures(acked, delivered, achieved, warmupMs);
}

/** Deletes the NATS log's stream (the log leaves it, as an application's would). */
async function deleteStream(name: string): Promise<void> {
  const nc = await connectBenchNats();
  try {
    await (await jetstreamManager(nc)).streams.delete(name);
  } finally {
    await nc.close();
  }
}

async function settle(done: () => boolean): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!done() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The result rows of one system: ours beside the raw tail. */
export function lagRows(
  c: ProjectionsBench,
  system: string,
  ours: LagResult,
  raw: LagResult,
  what: string,
): ResultRow[] {
  const scenario = `lag at ${c.lagRate.toLocaleString("en-US")} events/s (${system})`;
  return [
    {
      scenario,
      metric: `p50 ack -> ${what}`,
      value: ours.p50Ms,
      unit: "ms",
      baseline: raw.p50Ms,
      ratio: raw.p50Ms / ours.p50Ms,
    },
    {
      scenario,
      metric: `p99 ack -> ${what}`,
      value: ours.p99Ms,
      unit: "ms",
      baseline: raw.p99Ms,
      ratio: raw.p99Ms / ours.p99Ms,
    },
    {
      scenario,
      metric: `p99 persist start -> ${what}`,
      value: ours.startP99Ms,
      unit: "ms",
      baseline: raw.startP99Ms,
      ratio: raw.startP99Ms / ours.startP99Ms,
    },
    {
      scenario,
      metric: "achieved write rate",
      value: ours.achievedPerSecond,
      unit: "events/s",
      baseline: raw.achievedPerSecond,
    },
  ];
}
