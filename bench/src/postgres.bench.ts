/**
 * `npm run bench:postgres [-- --quick]`: our runtime (Entity.spawn + PostgresEvtLog, JSON binarizer, small
 * events) against raw `pg` baselines and Emmett on the same server, in rotating rounds so machine drift hits
 * all alike. Every round of every system writes into a fresh schema (Emmett: a database of its own). Its
 * scenarios and baselines are those of bench/README.md, "What each suite measures"; each baseline's function
 * below says what it does.
 */

import { getPostgreSQLEventStore } from "@event-driven-io/emmett-postgresql";
import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import type pg from "pg";
import { replayScenario, withClosed, writeScenarios } from "./adapter-suite.js";
import { type CounterEvt, driveCounters, EVT_JSON, replayCounter } from "./bench-counter.js";
import { closedLoop } from "./closed-loop.js";
import { quick } from "./measure.js";
import { createHeads, rawCheckedCommitter, rawCheckedInserter } from "./raw-checked-commit.js";
import { rawGroupCommitter } from "./raw-group-commit.js";
import { machineFacts, writeResults } from "./results.js";
import { checkedPool, DATABASE_URL, withClient } from "./service-versions.js";

const ROUNDS = quick ? 1 : 3;
const LOOP = { durationMs: quick ? 400 : 2_000, warmupMs: quick ? 150 : 400 };
const REPLAY_EVENTS = quick ? 20_000 : 100_000;
/** Other entities' events written between two of the replayed entity's events. */
const REPLAY_INTERLEAVE = 3;
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const EVT_BYTES = Buffer.from(EVT_JSON);
const CONTENT_TYPE = "application/json";

const admin = await checkedPool(2);
let schemas = 0;

/** Runs `body` with a fresh schema name and drops that schema afterwards. */
async function withSchema<T>(label: string, body: (schema: string) => Promise<T>): Promise<T> {
  const schema = `bench_${label}_${RUN_ID}_${schemas++}`;
  try {
    return await body(schema);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

/** A fresh table laid out like PostgresEvtLog's events table (without the heads table and lock), and a connection. */
function withRawTable<T>(label: string, body: (table: string, client: pg.Client) => Promise<T>): Promise<T> {
  return withSchema(label, async (schema) => {
    await admin.query(`CREATE SCHEMA "${schema}";
      CREATE TABLE "${schema}".events (
        position bigint GENERATED ALWAYS AS IDENTITY,
        type text NOT NULL, id text NOT NULL, seq_no bigint NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(), content_type text, metadata jsonb, bytes bytea NOT NULL,
        PRIMARY KEY (type, id, seq_no));
      CREATE INDEX ON "${schema}".events (type, position);`);
    return withClient((client) => body(`"${schema}".events`, client));
  });
}

const openLog = (schema: string) =>
  PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, logger: silentLogger });

const oursWrites = (entities: number) =>
  withSchema("ours", (schema) =>
    withClosed(openLog(schema), (log) => driveCounters(log, { ...LOOP, workers: entities })),
  );

/** Shards (lease keys) the fenced entities are spread over, as a cluster spreads its entities. */
const FENCED_SHARDS = 8;

/**
 * Ours with strict fencing, as a cluster on PostgreSQL writes: the entities spread over `FENCED_SHARDS` lease
 * tenures, every persist fenced by its shard's (checked in the batch statement against the lease rows).
 */
const oursFencedWrites = (entities: number) =>
  withSchema("fenced", (schema) =>
    withClosed(
      PostgresLeaseStore.create({ connectionString: DATABASE_URL, schema, ttlMs: 600_000 }),
      (store) =>
        withClosed(
          PostgresEvtLog.create({
            connectionString: DATABASE_URL,
            schema,
            logger: silentLogger,
            fencing: { leaseTable: store.table },
          }),
          async (log) => {
            const shards = await Promise.all(
              Array.from({ length: FENCED_SHARDS }, async (_, shard) => {
                const grant = await store.tryAcquire(`shard.${shard}`, "bench");
                if (grant === undefined) throw new Error(`shard.${shard} is taken`);
                return log.fenced({ key: grant.key, owner: grant.owner, epoch: grant.epoch });
              }),
            );
            return driveCounters(
              log,
              { ...LOOP, workers: entities },
              "c-",
              (i) => shards[i % FENCED_SHARDS]!,
            );
          },
        ),
    ),
  );

/** A prepared single-row INSERT per event, autocommit, one connection. */
const rawSingleInserts = () =>
  withRawTable("raw1", (table, client) =>
    closedLoop({ ...LOOP, workers: 1 }, (_, seq) =>
      client.query({
        name: "raw_insert",
        text: `INSERT INTO ${table} (type, id, seq_no, content_type, bytes) VALUES ($1, $2, $3, $4, $5)`,
        values: ["counter", "c-0", seq + 1, CONTENT_TYPE, EVT_BYTES],
      }),
    ),
  );

/** The hand-written group commit of raw-group-commit.ts on one committer connection. */
const rawGroupCommit = (entities: number) =>
  withRawTable("rawgc", (table, client) => {
    const append = rawGroupCommitter(client, table, CONTENT_TYPE, EVT_BYTES);
    return closedLoop({ ...LOOP, workers: entities }, (entity, seq) => append(`c-${entity}`, seq + 1));
  });

/**
 * The raw baseline with per-persist conflict checks and commit-ordered positions (raw-checked-commit.ts): the
 * single-statement form for 1 entity, the group commit otherwise.
 */
const rawChecked = (entities: number) =>
  withRawTable("rawck", async (table, client) => {
    const heads = table.replace(/\.events$/, ".heads");
    await createHeads(client, heads, entities);
    const target = { client, table, heads, contentType: CONTENT_TYPE, bytes: EVT_BYTES };
    const append = entities === 1 ? rawCheckedInserter(target) : rawCheckedCommitter(target);
    return closedLoop({ ...LOOP, workers: entities }, (entity, seq) => append(`c-${entity}`, seq + 1));
  });

/** Emmett keeps its tables in `public`, so it writes to a database of its own, created in `main`. */
const EMMETT_DATABASE = `bench_emmett_${RUN_ID}`;

async function emmettWrites(entities: number) {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${EMMETT_DATABASE}`;
  const prefix = `${RUN_ID}_${schemas++}`;
  return withClosed(Promise.resolve(getPostgreSQLEventStore(url.toString())), async (store) => {
    await store.schema.migrate();
    return closedLoop({ ...LOOP, workers: entities }, (entity, seq) =>
      store.appendToStream(`${prefix}-${entity}`, [{ type: "Increased", data: { by: 1 } }], {
        expectedStreamVersion: BigInt(seq),
      }),
    );
  });
}

/** One entity's `REPLAY_EVENTS` events, each followed by `REPLAY_INTERLEAVE` events of other entities. */
async function populateReplay(schema: string): Promise<PostgresEvtLog> {
  const log = await openLog(schema);
  for (let from = 1; from <= REPLAY_EVENTS; from += 20_000) {
    await admin.query(
      `INSERT INTO "${schema}".events (type, id, seq_no, content_type, bytes)
       SELECT 'counter', v.id, v.seq_no, $3, $4
       FROM generate_series($1::int, $2::int) AS g,
         LATERAL (SELECT 'c-target' AS id, g AS seq_no, 0 AS k
                  UNION ALL SELECT 'c-other-' || (g * $5 + k), 1, k FROM generate_series(1, $5) AS k) AS v
       ORDER BY g, v.k`,
      [from, Math.min(REPLAY_EVENTS, from + 19_999), CONTENT_TYPE, EVT_BYTES, REPLAY_INTERLEAVE],
    );
  }
  await admin.query(
    `INSERT INTO "${schema}".events_streams (type, id, last_seq_no) VALUES ('counter', 'c-target', $1)`,
    [REPLAY_EVENTS],
  );
  await admin.query(`ANALYZE "${schema}".events`);
  return log;
}

/** Raw: a server-side cursor fetching 1000 rows at a time, decoding and folding each event. */
function rawCursorReplay(schema: string): Promise<number> {
  return withClient(async (client) => {
    const started = performance.now();
    await client.query("BEGIN");
    await client.query(
      `DECLARE replay NO SCROLL CURSOR FOR SELECT seq_no, recorded_at, content_type, metadata, bytes
       FROM "${schema}".events WHERE type = $1 AND id = $2 ORDER BY seq_no`,
      ["counter", "c-target"],
    );
    let state = 0;
    let count = 0;
    for (;;) {
      const { rows } = await client.query<{ bytes: Buffer }>("FETCH 1000 FROM replay");
      if (rows.length === 0) break;
      for (const row of rows) state += (JSON.parse(row.bytes.toString("utf8")) as CounterEvt).by;
      count += rows.length;
    }
    await client.query("COMMIT");
    const seconds = (performance.now() - started) / 1000;
    if (count !== REPLAY_EVENTS || state !== REPLAY_EVENTS)
      throw new Error(`raw replay read ${count} events`);
    return REPLAY_EVENTS / seconds;
  });
}

async function main(): Promise<void> {
  const version: string = (await admin.query("SHOW server_version")).rows[0].server_version;
  const rounds = `${ROUNDS} round(s) of ${LOOP.durationMs} ms${quick ? " (quick)" : ""}`;
  console.log(`PostgreSQL ${version} at ${new URL(DATABASE_URL).host}; ${rounds}`);
  await admin.query(`CREATE DATABASE "${EMMETT_DATABASE}"`);
  const rows = await writeScenarios({
    rounds: ROUNDS,
    ours: { series: "eventsourced-postgres", run: oursWrites },
    raw: { series: "raw-postgres", run: (n) => (n === 1 ? rawSingleInserts() : rawGroupCommit(n)) },
    others: {
      "raw with conflict check": { series: "raw-postgres-checked", run: rawChecked },
      "eventsourced fenced": { series: "eventsourced-postgres-fenced", run: oursFencedWrites },
      Emmett: { series: "emmett", run: emmettWrites },
    },
    latencies: { 100: ["p99"] },
  });
  const scenario = `replay ${REPLAY_EVENTS.toLocaleString("en-US")} events (1 in ${REPLAY_INTERLEAVE + 1} rows)`;
  const replay = await withSchema("replay", (schema) =>
    withClosed(populateReplay(schema), (log) =>
      replayScenario(scenario, ROUNDS, {
        ours: () => replayCounter(log, "c-target", REPLAY_EVENTS),
        raw: () => rawCursorReplay(schema),
      }),
    ),
  );
  writeResults("postgres", [...rows, ...replay], machineFacts({ postgres: version }));
}

try {
  await main();
} finally {
  // Last: Emmett's store.close() leaves pool connections open for a while, and terminating them (FORCE)
  // mid-run fails their pool, which has no error listener, and with it this process.
  await admin.query(`DROP DATABASE IF EXISTS "${EMMETT_DATABASE}" WITH (FORCE)`).catch(() => {});
  await admin.end();
}
