/**
 * PostgreSQL benchmark: our runtime (Entity.spawn + PostgresEvtLog, JSON binarizer, small events) against
 * raw `pg` baselines and Emmett on the same server, interleaved round by round so machine drift hits all
 * alike. Every round of every system writes into a fresh schema (Emmett: a fresh database).
 *
 *   npx tsc -b bench && node bench/dist/postgres.bench.js [--quick]
 *
 * Scenarios: (1) 1 entity, sequential commands vs a prepared single-row INSERT loop; (2) 32/100/1000
 * entities, each sending its next command when the previous one is acknowledged, vs a single-committer
 * `INSERT ... SELECT FROM unnest` group-commit loop; (3) replay of one entity's events interleaved with
 * other entities' vs a raw cursor read; (4) Emmett on (1) and (2).
 */

import { getPostgreSQLEventStore, type PostgresEventStore } from "@event-driven-io/emmett-postgresql";
import { Entity, type EntityRef, type ProtocolOf, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import pg from "pg";
import { type CounterEvt, counter, EVT_JSON } from "./bench-counter.js";
import { type Measured, median, quantile, quick, rotateRounds } from "./measure.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const ROUNDS = quick ? 1 : 3;
const WINDOW_MS = quick ? 400 : 2_000;
const WARMUP_MS = quick ? 150 : 400;
const ENTITY_COUNTS = [32, 100, 1000] as const;
const REPLAY_EVENTS = quick ? 20_000 : 100_000;
/** Other entities' events written between two of the replayed entity's events. */
const REPLAY_INTERLEAVE = 3;
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;

const EVT_BYTES = Buffer.from(EVT_JSON);
const CONTENT_TYPE = "application/json";

type System = "ours" | "raw" | "emmett";

let schemaCounter = 0;
const freshSchema = (label: string) => `bench_${label}_${RUN_ID}_${schemaCounter++}`;

async function adminPool(): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  pool.on("error", () => {});
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL} (${(err as Error).message}). Start it with ` +
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set DATABASE_URL.",
    );
  }
  return pool;
}

/** The same table layout as PostgresEvtLog's events table, without the heads table and the lock. */
async function createRawTable(admin: pg.Pool, schema: string): Promise<string> {
  await admin.query(`CREATE SCHEMA "${schema}";
    CREATE TABLE "${schema}".events (
      position bigint GENERATED ALWAYS AS IDENTITY,
      type text NOT NULL, id text NOT NULL, seq_no bigint NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(), content_type text, metadata jsonb, bytes bytea NOT NULL,
      PRIMARY KEY (type, id, seq_no));
    CREATE INDEX ON "${schema}".events (type, position);`);
  return `"${schema}".events`;
}

/**
 * Runs `entities` closed loops (each sends its next command when the previous one is done). The first
 * `WARMUP_MS` are not counted (connections, prepared statements, JIT); then commands that complete within
 * the next `ms` are, and the latency of those that also started then.
 */
async function closedLoops(
  entities: number,
  ms: number,
  step: (entity: number, seq: number) => Promise<void>,
  recordLatency: boolean,
): Promise<Measured> {
  const from = performance.now() + WARMUP_MS;
  const deadline = from + ms;
  const latencies: number[] = [];
  let done = 0;
  await Promise.all(
    Array.from({ length: entities }, async (_, entity) => {
      let seq = 0;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await step(entity, seq);
        const t1 = performance.now();
        seq++;
        if (t1 >= from && t1 <= deadline) {
          done++;
          if (recordLatency && t0 >= from) latencies.push(t1 - t0);
        }
      }
    }),
  );
  return recordLatency
    ? { perSecond: done / (ms / 1000), latenciesMs: latencies }
    : { perSecond: done / (ms / 1000) };
}

// ---- ours

async function oursWrites(admin: pg.Pool, entities: number): Promise<Measured> {
  const schema = freshSchema("ours");
  const log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, logger: silentLogger });
  try {
    const refs: EntityRef<ProtocolOf<typeof counter>>[] = await Promise.all(
      Array.from({ length: entities }, (_, i) =>
        Entity.spawn(`c-${i}`, counter, { evtLog: log, logger: silentLogger }),
      ),
    );
    const measured = await closedLoops(
      entities,
      WINDOW_MS,
      async (entity) => {
        await refs[entity]!.handleCmd({ inc: 1 });
      },
      true,
    );
    await Promise.all(refs.map((ref) => ref.stop()));
    return measured;
  } finally {
    await log.close();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  }
}

// ---- raw baselines

/** A prepared single-row INSERT per event, autocommit, one connection. */
async function rawSingleInserts(admin: pg.Pool): Promise<Measured> {
  const schema = freshSchema("raw1");
  const table = await createRawTable(admin, schema);
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const name = `raw_insert_${schema}`;
    return await closedLoops(
      1,
      WINDOW_MS,
      async (_entity, seq) => {
        await client.query({
          name,
          text: `INSERT INTO ${table} (type, id, seq_no, content_type, bytes) VALUES ($1, $2, $3, $4, $5)`,
          values: ["counter", "c-0", seq + 1, CONTENT_TYPE, EVT_BYTES],
        });
      },
      true,
    );
  } finally {
    await client.end();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  }
}

/**
 * A hand-written group commit: one committer connection; every writer queues its event and waits; the
 * committer writes whatever queued up (at most 1000) as one `INSERT ... SELECT FROM unnest`.
 */
async function rawGroupCommit(admin: pg.Pool, entities: number): Promise<Measured> {
  const schema = freshSchema("rawgc");
  const table = await createRawTable(admin, schema);
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  const sql = `INSERT INTO ${table} (type, id, seq_no, content_type, bytes)
    SELECT 'counter', id, seq_no, '${CONTENT_TYPE}', bytes FROM unnest($1::text[], $2::int8[], $3::bytea[]) AS t(id, seq_no, bytes)`;
  let queue: { id: string; seq: number; done: () => void; fail: (err: unknown) => void }[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    while (queue.length > 0) {
      const batch = queue.slice(0, 1000);
      queue = queue.slice(batch.length);
      try {
        await client.query(sql, [
          batch.map((b) => b.id),
          batch.map((b) => b.seq),
          batch.map(() => EVT_BYTES),
        ]);
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.fail(err);
      }
    }
    running = false;
  };
  try {
    return await closedLoops(
      entities,
      WINDOW_MS,
      (entity, seq) =>
        new Promise<void>((done, fail) => {
          queue.push({ id: `c-${entity}`, seq: seq + 1, done, fail });
          if (!running) queueMicrotask(() => void drain());
        }),
      true,
    );
  } finally {
    await client.end();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  }
}

// ---- Emmett

let emmettDatabase: string | undefined;

/** Emmett keeps its tables in `public`; it gets a database of its own, dropped at the end. */
async function emmettUrl(admin: pg.Pool): Promise<string> {
  if (emmettDatabase === undefined) {
    emmettDatabase = `bench_emmett_${RUN_ID}`;
    await admin.query(`CREATE DATABASE "${emmettDatabase}"`);
  }
  const url = new URL(DATABASE_URL);
  url.pathname = `/${emmettDatabase}`;
  return url.toString();
}

async function emmettWrites(admin: pg.Pool, entities: number): Promise<Measured> {
  const store: PostgresEventStore = getPostgreSQLEventStore(await emmettUrl(admin));
  const prefix = freshSchema("emmett");
  try {
    await store.schema.migrate();
    return await closedLoops(
      entities,
      WINDOW_MS,
      async (entity, seq) => {
        await store.appendToStream(`${prefix}-${entity}`, [{ type: "Increased", data: { by: 1 } }], {
          expectedStreamVersion: BigInt(seq),
        });
      },
      false,
    );
  } finally {
    await store.close();
  }
}

// ---- replay

interface ReplayTable {
  readonly schema: string;
  readonly log: PostgresEvtLog;
}

/** One entity's `REPLAY_EVENTS` events, each followed by `REPLAY_INTERLEAVE` events of other entities. */
async function populateReplay(admin: pg.Pool): Promise<ReplayTable> {
  const schema = freshSchema("replay");
  const log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, logger: silentLogger });
  const chunk = 20_000;
  for (let from = 1; from <= REPLAY_EVENTS; from += chunk) {
    const to = Math.min(REPLAY_EVENTS, from + chunk - 1);
    await admin.query(
      `INSERT INTO "${schema}".events (type, id, seq_no, content_type, bytes)
       SELECT 'counter', v.id, v.seq_no, $3, $4
       FROM generate_series($1::int, $2::int) AS g,
         LATERAL (SELECT 'c-target' AS id, g AS seq_no, 0 AS k
                  UNION ALL SELECT 'c-other-' || (g * $5 + k), 1, k FROM generate_series(1, $5) AS k) AS v
       ORDER BY g, v.k`,
      [from, to, CONTENT_TYPE, EVT_BYTES, REPLAY_INTERLEAVE],
    );
  }
  await admin.query(
    `INSERT INTO "${schema}".events_streams (type, id, last_seq_no) VALUES ('counter', 'c-target', $1)`,
    [REPLAY_EVENTS],
  );
  await admin.query(`ANALYZE "${schema}".events`);
  return { schema, log };
}

/** Our replay: spawning the entity recovers it from the log (read, decode, fold every event). */
async function oursReplay(table: ReplayTable): Promise<Measured> {
  const t0 = performance.now();
  const ref = await Entity.spawn("c-target", counter, { evtLog: table.log, logger: silentLogger });
  const seconds = (performance.now() - t0) / 1000;
  if (ref.seqNo !== REPLAY_EVENTS) throw new Error(`replayed ${ref.seqNo} events, expected ${REPLAY_EVENTS}`);
  await ref.stop();
  return { perSecond: REPLAY_EVENTS / seconds };
}

/** Raw: a server-side cursor fetching 1000 rows at a time, decoding and folding each event. */
async function rawCursorReplay(table: ReplayTable): Promise<Measured> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const t0 = performance.now();
    await client.query("BEGIN");
    await client.query(
      `DECLARE replay NO SCROLL CURSOR FOR
       SELECT seq_no, recorded_at, content_type, metadata, bytes FROM "${table.schema}".events
       WHERE type = $1 AND id = $2 ORDER BY seq_no`,
      ["counter", "c-target"],
    );
    let state = 0;
    let count = 0;
    for (;;) {
      const res = await client.query("FETCH 1000 FROM replay");
      if (res.rows.length === 0) break;
      for (const row of res.rows as { bytes: Buffer }[]) {
        state += (JSON.parse(row.bytes.toString("utf8")) as CounterEvt).by;
        count++;
      }
    }
    await client.query("COMMIT");
    const seconds = (performance.now() - t0) / 1000;
    if (count !== REPLAY_EVENTS || state !== REPLAY_EVENTS)
      throw new Error(`raw replay read ${count} events`);
    return { perSecond: REPLAY_EVENTS / seconds };
  } finally {
    await client.end();
  }
}

// ---- rounds and rows

/** Runs the systems in each round, rotating who goes first. */

const rounds = (systems: Partial<Record<System, () => Promise<Measured>>>) => rotateRounds(ROUNDS, systems);

const SERIES: Record<System, string> = {
  ours: "eventsourced-postgres",
  raw: "raw-postgres",
  emmett: "emmett",
};

function throughputRows(
  scenario: string,
  entities: number | undefined,
  results: Map<System, Measured[]>,
): ResultRow[] {
  const rows: ResultRow[] = [];
  const figure = (system: System) => {
    const values = (results.get(system) ?? []).map((m) => m.perSecond);
    return values.length === 0
      ? undefined
      : { value: median(values), min: Math.min(...values), max: Math.max(...values), rounds: values.length };
  };
  const ours = figure("ours")!;
  const raw = figure("raw");
  const emmett = figure("emmett");
  // One event per command in the write scenarios; replay reads events.
  const unit = entities === undefined ? "events/s" : "commands/s";
  const tag = (system: System) => (entities === undefined ? {} : { series: SERIES[system], entities });
  rows.push({
    scenario,
    metric: "throughput",
    ...ours,
    unit,
    ...(raw ? { baseline: raw.value, ratio: ours.value / raw.value } : {}),
    ...tag("ours"),
  });
  if (raw) rows.push({ scenario, metric: "throughput", ...raw, unit, ...tag("raw") });
  if (emmett) {
    rows.push({ scenario, metric: "throughput", ...emmett, unit, ...tag("emmett") });
    rows.push({
      scenario,
      metric: "throughput vs Emmett",
      value: ours.value,
      unit,
      baseline: emmett.value,
      ratio: ours.value / emmett.value,
    });
  }
  return rows;
}

function latencyRows(scenario: string, results: Map<System, Measured[]>): ResultRow[] {
  const p99 = (system: System) => {
    const perRound = (results.get(system) ?? []).map((m) => quantile(m.latenciesMs ?? [0], 0.99));
    return {
      value: median(perRound),
      min: Math.min(...perRound),
      max: Math.max(...perRound),
      rounds: perRound.length,
    };
  };
  const ours = p99("ours");
  const raw = p99("raw");
  return [
    {
      scenario,
      metric: "p99 command latency",
      ...ours,
      unit: "ms",
      baseline: raw.value,
      ratio: raw.value / ours.value,
    },
  ];
}

async function main(): Promise<void> {
  const admin = await adminPool();
  const version = ((await admin.query("SHOW server_version")).rows[0] as { server_version: string })
    .server_version;
  console.log(
    `PostgreSQL ${version} at ${new URL(DATABASE_URL).host}; ${ROUNDS} round(s) of ${WINDOW_MS} ms${quick ? " (quick)" : ""}`,
  );
  const rows: ResultRow[] = [];
  try {
    const one = await rounds({
      ours: () => oursWrites(admin, 1),
      raw: () => rawSingleInserts(admin),
      emmett: () => emmettWrites(admin, 1),
    });
    rows.push(...throughputRows("1 entity", 1, one));
    console.log("1 entity done");
    for (const entities of ENTITY_COUNTS) {
      const many = await rounds({
        ours: () => oursWrites(admin, entities),
        raw: () => rawGroupCommit(admin, entities),
        emmett: () => emmettWrites(admin, entities),
      });
      rows.push(...throughputRows(`${entities} entities`, entities, many));
      if (entities === 100) rows.push(...latencyRows("100 entities", many));
      console.log(`${entities} entities done`);
    }
    const replay = await populateReplay(admin);
    try {
      await rawCursorReplay(replay); // warms the cache for whichever system goes first
      const replayed = await rounds({ ours: () => oursReplay(replay), raw: () => rawCursorReplay(replay) });
      rows.push(
        ...throughputRows(
          `replay ${REPLAY_EVENTS.toLocaleString("en-US")} events (1 in ${REPLAY_INTERLEAVE + 1} rows)`,
          undefined,
          replayed,
        ),
      );
    } finally {
      await replay.log.close();
      await admin.query(`DROP SCHEMA "${replay.schema}" CASCADE`);
    }
  } finally {
    if (emmettDatabase !== undefined)
      await admin.query(`DROP DATABASE IF EXISTS "${emmettDatabase}" WITH (FORCE)`);
    await admin.end();
  }
  writeResults("postgres", rows, machineFacts({ postgres: version }));
}

await main();
