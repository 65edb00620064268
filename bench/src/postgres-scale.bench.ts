/**
 * `npm run bench:postgres-scale [-- --quick]`: PostgreSQL at scale, against raw `pg` doing the same work in
 * the same run, in rotating rounds.
 *
 * Scenarios: (1) 2 and 4 writer processes (`scale-writer.ts`), 100 entities each, on one log, against as
 * many processes running the `postgres` suite's raw group commit on one table, and as many running its raw
 * group commit with conflict check: aggregate commands/s; (2)
 * recovery of 100 entities x 10,000 events (no snapshots) with `Entity.spawnMany` (bulk reads), and with
 * one `Entity.spawn` per entity as a registry warms up today, against a raw replay: one server-side cursor
 * over the same rows, decoding and folding each event per entity.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Entity, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import pg from "pg";
import { type CounterEvt, counter, EVT_JSON } from "./bench-counter.js";
import type { Measured } from "./closed-loop.js";
import { comparisonRow, quick, rotateRounds } from "./measure.js";
import { createHeads } from "./raw-checked-commit.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";
import { DEFAULT_DATABASE_URL } from "./service-versions.js";

const DATABASE_URL = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const ROUNDS = quick ? 1 : 3;
/** Recovery rounds are long (a million events each in full mode): fewer of them. */
const RECOVERY_ROUNDS = quick ? 1 : 2;
const WRITERS = { processes: [2, 4], entities: 100, durationMs: quick ? 600 : 2_000 };
const RECOVERY = quick ? { entities: 20, evts: 1_000 } : { entities: 100, evts: 10_000 };
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const WRITER = fileURLToPath(new URL("./scale-writer.js", import.meta.url));
/** Time for every writer process to start and connect before they begin together. */
const START_DELAY_MS = 4_000;

const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
admin.on("error", () => {});
let schemas = 0;

async function withSchema<T>(label: string, body: (schema: string) => Promise<T>): Promise<T> {
  const schema = `bench_${label}_${RUN_ID}_${schemas++}`;
  try {
    return await body(schema);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

function runWriter(mode: string, schema: string, index: number, startAt: number): Promise<Measured> {
  const args = [WRITER, mode, schema, String(index), String(WRITERS.entities), String(startAt)];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...args, String(WRITERS.durationMs)],
      { timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`writer ${index} (${mode}) failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as Measured);
      },
    );
  });
}

/** `processes` writer processes together on one fresh schema; their summed commands/s. */
function writers(mode: "ours" | "raw" | "checked", processes: number): Promise<Measured> {
  return withSchema(`scale${mode}`, async (schema) => {
    if (mode === "ours") {
      const log = await PostgresEvtLog.create({
        connectionString: DATABASE_URL,
        schema,
        logger: silentLogger,
      });
      await log.close();
    } else {
      await admin.query(`CREATE SCHEMA "${schema}";
        CREATE TABLE "${schema}".raw (
          position bigint GENERATED ALWAYS AS IDENTITY,
          type text NOT NULL, id text NOT NULL, seq_no bigint NOT NULL,
          recorded_at timestamptz NOT NULL DEFAULT now(), content_type text, metadata jsonb, bytes bytea NOT NULL,
          PRIMARY KEY (type, id, seq_no));
        CREATE INDEX ON "${schema}".raw (type, position);`);
      if (mode === "checked") {
        const prefixes = Array.from({ length: processes }, (_, i) => `p${i}-`);
        await createHeads(admin, `"${schema}".heads`, WRITERS.entities, prefixes);
      }
    }
    const startAt = Date.now() + START_DELAY_MS;
    const each = await Promise.all(
      Array.from({ length: processes }, (_, i) => runWriter(mode, schema, i, startAt)),
    );
    return {
      perSecond: each.reduce((sum, m) => sum + m.perSecond, 0),
      cpuMicros: each.reduce((sum, m) => sum + m.cpuMicros, 0) / processes,
      p50Ms: Math.max(...each.map((m) => m.p50Ms)),
      p99Ms: Math.max(...each.map((m) => m.p99Ms)),
    };
  });
}

async function writerRows(): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const processes of WRITERS.processes) {
    const scenario = `${processes} writer processes x ${WRITERS.entities} entities`;
    const results = await rotateRounds(ROUNDS, {
      ours: () => writers("ours", processes),
      raw: () => writers("raw", processes),
      checked: () => writers("checked", processes),
    });
    const fields = { scenario, metric: "throughput", unit: "commands/s" };
    const perSecond = (m: Measured) => m.perSecond;
    rows.push(
      comparisonRow(
        { ...fields, series: "eventsourced-postgres" },
        perSecond,
        results.get("ours")!,
        results.get("raw"),
      ),
      comparisonRow({ ...fields, series: "raw-postgres" }, perSecond, results.get("raw")!),
      comparisonRow({ ...fields, series: "raw-postgres-checked" }, perSecond, results.get("checked")!),
      comparisonRow(
        { ...fields, metric: "throughput vs raw with conflict check" },
        perSecond,
        results.get("ours")!,
        results.get("checked"),
      ),
      comparisonRow(
        { ...fields, metric: "p99 command latency", unit: "ms" },
        (m) => m.p99Ms,
        results.get("ours")!,
        results.get("raw"),
      ),
    );
    console.log(`${scenario} done`);
  }
  return rows;
}

const ids = Array.from({ length: RECOVERY.entities }, (_, i) => `c-${i}`);
const TOTAL = RECOVERY.entities * RECOVERY.evts;

/** Every entity's events, written interleaved (round robin) as concurrent entities write them. */
async function populateRecovery(schema: string): Promise<PostgresEvtLog> {
  const log = await PostgresEvtLog.create({
    connectionString: DATABASE_URL,
    schema,
    maxConnections: 4,
    logger: silentLogger,
  });
  const step = Math.max(1, Math.floor(100_000 / RECOVERY.entities));
  for (let from = 1; from <= RECOVERY.evts; from += step) {
    await admin.query(
      `INSERT INTO "${schema}".events (type, id, seq_no, content_type, bytes)
       SELECT 'counter', 'c-' || e, s, 'application/json', $4
       FROM generate_series($1::int, $2::int) AS s, generate_series(0, $3::int - 1) AS e ORDER BY s, e`,
      [from, Math.min(RECOVERY.evts, from + step - 1), RECOVERY.entities, Buffer.from(EVT_JSON)],
    );
  }
  await admin.query(
    `INSERT INTO "${schema}".events_streams (type, id, last_seq_no) SELECT 'counter', unnest($1::text[]), $2`,
    [ids, RECOVERY.evts],
  );
  await admin.query(`VACUUM ANALYZE "${schema}".events`);
  return log;
}

async function timed(run: () => Promise<readonly { seqNo: number; stop(): Promise<void> }[]>) {
  const started = performance.now();
  const refs = await run();
  const seconds = (performance.now() - started) / 1000;
  if (refs.some((ref) => ref.seqNo !== RECOVERY.evts)) throw new Error("an entity recovered short");
  await Promise.all(refs.map((ref) => ref.stop()));
  return TOTAL / seconds;
}

/** Raw: one cursor over every entity's events in (id, seqNo) order, 10,000 rows per fetch, folded per entity. */
async function rawReplay(schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const started = performance.now();
    await client.query("BEGIN");
    await client.query(
      `DECLARE replay NO SCROLL CURSOR FOR SELECT id, seq_no, recorded_at, content_type, metadata, bytes
       FROM "${schema}".events WHERE type = $1 AND id = ANY($2) ORDER BY id, seq_no`,
      ["counter", ids],
    );
    const states = new Map<string, number>();
    let count = 0;
    for (;;) {
      const { rows } = await client.query<{ id: string; bytes: Buffer }>("FETCH 10000 FROM replay");
      if (rows.length === 0) break;
      for (const row of rows) {
        const evt = JSON.parse(row.bytes.toString("utf8")) as CounterEvt;
        states.set(row.id, (states.get(row.id) ?? 0) + evt.by);
      }
      count += rows.length;
    }
    await client.query("COMMIT");
    const seconds = (performance.now() - started) / 1000;
    if (count !== TOTAL) throw new Error(`raw replay read ${count} events`);
    return TOTAL / seconds;
  } finally {
    await client.end();
  }
}

async function recoveryRows(): Promise<ResultRow[]> {
  return withSchema("scalerecovery", async (schema) => {
    const log = await populateRecovery(schema);
    try {
      const options = { evtLog: log, logger: silentLogger };
      const systems = {
        raw: () => rawReplay(schema),
        bulk: () => timed(() => Entity.spawnMany(ids, counter, options)),
        each: () => timed(() => Promise.all(ids.map((id) => Entity.spawn(id, counter, options)))),
      };
      // One unrecorded raw run warms the table's pages into the server's cache for all of them.
      await systems.raw();
      const results = await rotateRounds(RECOVERY_ROUNDS, systems);
      const scenario = `recovery of ${RECOVERY.entities} entities x ${RECOVERY.evts.toLocaleString("en-US")} events`;
      const fields = { scenario, unit: "events/s" };
      const perSecond = (value: number) => value;
      console.log("recovery done");
      return [
        comparisonRow(
          { ...fields, metric: "throughput (spawnMany)" },
          perSecond,
          results.get("bulk")!,
          results.get("raw"),
        ),
        comparisonRow(
          { ...fields, metric: "throughput (spawn each)" },
          perSecond,
          results.get("each")!,
          results.get("raw"),
        ),
        comparisonRow({ ...fields, metric: "throughput (raw replay)" }, perSecond, results.get("raw")!),
      ];
    } finally {
      await log.close();
    }
  });
}

async function main(): Promise<void> {
  const { rows } = await admin.query<{ server_version: string }>("SHOW server_version");
  const version = rows[0]!.server_version;
  console.log(`PostgreSQL ${version}; ${ROUNDS} round(s)${quick ? " (quick)" : ""}`);
  // `--only=writers` or `--only=recovery` runs one scenario (for measuring a change; the page wants both).
  const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
  const results = [
    ...(only === "recovery" ? [] : await writerRows()),
    ...(only === "writers" ? [] : await recoveryRows()),
  ];
  writeResults("postgres-scale", results, machineFacts({ postgres: version }));
}

try {
  await main();
} finally {
  await admin.end();
}
