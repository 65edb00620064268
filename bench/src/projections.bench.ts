/**
 * Projections benchmark (`npm run bench:projections [-- --quick]`): @eventsourced/projections against raw `pg`
 * and raw JetStream, measured in the same run, rounds interleaved so machine drift hits both sides alike.
 *
 * Scenarios: (1) exactly-once on PostgreSQL with an upsert handler over a backlog vs a hand-written loop
 * (page, upsert, checkpoint in one transaction); (2) rebuild with a no-op handler vs a raw replay of the same
 * events; (3) lag (persist acknowledged -> read model committed) at 10,000 events/s on PostgreSQL and on NATS,
 * each beside the raw tail (INSERT + NOTIFY / LISTEN + query; publish / ordered consumer); (4) the cost of an
 * inline projection on the write path.
 */
import { silentLogger } from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { Projection, type ProjectionHandler } from "@eventsourced/projections";
import {
  exactlyOnce,
  inlineProjection,
  inlineProjections,
  PostgresProjectionStore,
} from "@eventsourced/projections/postgres";
import type pg from "pg";
import { quick, spread } from "./measure.js";
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
  EVENT,
  ids,
  rawExactlyOnce,
  rawReplay,
  timed,
  upsertTotals,
} from "./projections-support.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";
import { checkedPool, DATABASE_URL, NATS_URL } from "./service-versions.js";

const ROUNDS = quick ? 1 : 3;
const BACKLOG = quick ? 20_000 : 100_000;
const ENTITIES = 1_000;
const LAG_RATE = 10_000;
const LAG_SECONDS = quick ? 2 : 6;
const INLINE_MS = quick ? 1_000 : 3_000;
/** `PROJECTIONS_BENCH=lag-pg,lag-nats` runs only those scenarios (backlog, lag-pg, lag-nats, inline). */
const SELECTED = process.env.PROJECTIONS_BENCH?.split(",");
const only = (scenario: string) => SELECTED === undefined || SELECTED.includes(scenario);
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;

let counter = 0;
const fresh = (label: string) => `bench_proj_${label}_${RUN_ID}_${counter++}`;

const adminPool = (): Promise<pg.Pool> => checkedPool(8);

/** Runs `projection` from position 0 to the log's head; resolves to events per second. */
async function drain(projection: Projection<Amount>, head: number): Promise<number> {
  const t0 = performance.now();
  projection.start();
  await projection.waitFor(head);
  const seconds = (performance.now() - t0) / 1000;
  await projection.stop();
  return BACKLOG / seconds;
}

// ---- (1) and (2): a backlog in PostgreSQL

async function backlogScenarios(pool: pg.Pool): Promise<ResultRow[]> {
  const schema = fresh("backlog");
  const log = await PostgresEvtLog.create({ pool, schema, logger: silentLogger });
  const store = await PostgresProjectionStore.create({ pool, schema });
  const totals = `"${schema}".totals`;
  await pool.query(`CREATE TABLE ${totals} (id text PRIMARY KEY, total bigint NOT NULL)`);
  for (let round = 0; round * ENTITIES < BACKLOG; round++) {
    await Promise.all(
      Array.from({ length: ENTITIES }, (_, e) => log.persist("acct", `e${e}`, round, [EVENT])),
    );
  }
  const head = (await log.headOfType("acct"))!.position;
  const make = (handler: ProjectionHandler<Amount>) =>
    Projection.create<Amount>({
      name: fresh("p"),
      evtLog: log,
      type: "acct",
      binarizer,
      handler,
      batch: { maxEvents: 500, maxWaitMs: 20 },
      logger: silentLogger,
    });
  const upsert = exactlyOnce<Amount>(store, {
    handle: (evts, tx) => upsertTotals(tx, totals, ids(evts), amounts(evts)),
  });
  const noop = exactlyOnce<Amount>(store, { handle: async () => {} });
  const eo: number[] = [];
  const rawEo: number[] = [];
  const rebuild: number[] = [];
  const replay: number[] = [];
  progress(`backlog written (head ${head})`);
  for (let round = 0; round < ROUNDS; round++) {
    await pool.query(`TRUNCATE ${totals}`);
    eo.push(await drain(make(upsert), head));
    await pool.query(`TRUNCATE ${totals}`);
    rawEo.push(await rawExactlyOnce(pool, schema, totals, BACKLOG));
    rebuild.push(await drain(make(noop), head));
    replay.push(await rawReplay(pool, schema, BACKLOG));
  }
  await log.close();
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  const eoS = spread(eo);
  const rebuildS = spread(rebuild);
  return [
    {
      scenario: `exactly-once, upsert handler, ${BACKLOG.toLocaleString("en-US")}-event backlog (PostgreSQL)`,
      metric: "events/s",
      unit: "events/s",
      ...eoS,
      baseline: spread(rawEo).value,
      ratio: eoS.value / spread(rawEo).value,
    },
    {
      scenario: `rebuild, no-op handler, ${BACKLOG.toLocaleString("en-US")} events (PostgreSQL)`,
      metric: "events/s",
      unit: "events/s",
      ...rebuildS,
      baseline: spread(replay).value,
      ratio: rebuildS.value / spread(replay).value,
    },
  ];
}

// ---- (3) lag at a steady rate

async function lag(pool: pg.Pool, system: "pg" | "nats", kind: "ours" | "raw"): Promise<LagResult> {
  const acked = new Map<number, Ack>();
  const delivered = new Map<number, number>();
  const name = fresh(`lag_${system}`);
  const target = { databaseUrl: DATABASE_URL, natsUrl: NATS_URL, name };
  const load = { rate: LAG_RATE, seconds: LAG_SECONDS, entities: 2_000 };
  const writerKind = `${kind}-${system}` as LagKind;
  const onAck = (key: number, ack: Ack) => acked.set(key, ack);
  if (kind === "raw") {
    if (system === "pg") await createRawPgTable(pool, name);
    const stop =
      system === "pg"
        ? await rawPgTail(DATABASE_URL, name, delivered)
        : await rawNatsTail(NATS_URL, name, delivered);
    const achieved = await runWriter(writerKind, target, load, onAck);
    await settle(() => delivered.size >= acked.size);
    progress(
      `  raw ${system}: written at ${Math.round(achieved)}/s, ${delivered.size} of ${acked.size} delivered`,
    );
    await stop();
    if (system === "pg") await pool.query(`DROP SCHEMA "${name}" CASCADE`);
    return lagFigures(acked, delivered, achieved);
  }
  const log =
    system === "pg"
      ? await PostgresEvtLog.create({ pool, schema: name, logger: silentLogger })
      : await NatsEvtLog.connect({
          servers: NATS_URL,
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
    batch: { maxEvents: 500, maxWaitMs: 2 },
    logger: silentLogger,
  });
  projection.start();
  const achieved = await runWriter(writerKind, target, load, onAck);
  await settle(() => delivered.size >= acked.size);
  progress(
    `  ours ${system}: written at ${Math.round(achieved)}/s, ${delivered.size} of ${acked.size} committed`,
  );
  await projection.stop();
  await log.close();
  await pool.query(`DROP SCHEMA "${name}" CASCADE`);
  return lagFigures(acked, delivered, achieved);
}

async function settle(done: () => boolean): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!done() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

function lagRows(system: string, ours: LagResult, raw: LagResult, what: string): ResultRow[] {
  const scenario = `lag at ${LAG_RATE.toLocaleString("en-US")} events/s (${system})`;
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

// ---- (4) an inline projection on the write path

async function inlineCost(pool: pg.Pool): Promise<ResultRow> {
  const withInline: number[] = [];
  const without: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const inline of round % 2 === 0 ? [true, false] : [false, true]) {
      (inline ? withInline : without).push(await persistRate(pool, inline));
    }
  }
  const s = spread(withInline);
  const base = spread(without).value;
  return {
    scenario: "inline projection (upsert per batch), 100 entities writing (PostgreSQL)",
    metric: "persists/s",
    unit: "persists/s",
    ...s,
    baseline: base,
    ratio: s.value / base,
  };
}

async function persistRate(pool: pg.Pool, inline: boolean): Promise<number> {
  const schema = fresh("inline");
  await pool.query(
    `CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".totals (id text PRIMARY KEY, total bigint NOT NULL)`,
  );
  const view = inlineProjection<Amount>({
    name: "totals",
    type: "acct",
    binarizer,
    handle: (evts, tx) => upsertTotals(tx, `"${schema}".totals`, ids(evts), amounts(evts)),
  });
  const log = await PostgresEvtLog.create({
    connectionString: DATABASE_URL,
    schema,
    logger: silentLogger,
    ...(inline ? { inTransaction: inlineProjections(view) } : {}),
  });
  const deadline = performance.now() + INLINE_MS;
  let done = 0;
  await Promise.all(
    Array.from({ length: 100 }, async (_, e) => {
      for (let seqNo = 0; performance.now() < deadline; seqNo++) {
        await log.persist("acct", `e${e}`, seqNo, [EVENT]);
        done++;
      }
    }),
  );
  await log.close();
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  return done / (INLINE_MS / 1000);
}

function progress(what: string): void {
  console.error(`[projections] ${new Date().toISOString().slice(11, 19)} ${what}`);
}
async function main(): Promise<void> {
  const pool = await adminPool();
  const rows: ResultRow[] = [];
  try {
    progress(`backlog of ${BACKLOG} events: exactly-once and rebuild, ${ROUNDS} round(s)`);
    if (only("backlog")) rows.push(...(await backlogScenarios(pool)));
    progress(`lag at ${LAG_RATE} events/s on PostgreSQL`);
    if (only("lag-pg")) {
      const oursPg = await lag(pool, "pg", "ours");
      const rawPg = await lag(pool, "pg", "raw");
      rows.push(...lagRows("PostgreSQL", oursPg, rawPg, "read model committed"));
    }
    progress(`lag at ${LAG_RATE} events/s on NATS`);
    if (only("lag-nats")) {
      const oursNats = await lag(pool, "nats", "ours");
      const rawNats = await lag(pool, "nats", "raw");
      rows.push(...lagRows("NATS log, read model in PostgreSQL", oursNats, rawNats, "read model committed"));
    }
    progress("inline projection cost");
    if (only("inline")) rows.push(await inlineCost(pool));
  } finally {
    await pool.end();
  }
  writeResults("projections", rows, machineFacts());
}

await main();
