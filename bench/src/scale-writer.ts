/**
 * One writer process of the `postgres-scale` suite: `node bench/dist/scale-writer.js <ours|raw> <schema>
 * <process> <entities> <startAtMs> <durationMs>`. Waits until `startAtMs` (so that every process of a run
 * starts together), drives `entities` closed loops on its own entities (`p<process>-c-<n>`) for
 * `durationMs`, and prints one JSON line: its commands per second (see `closedLoop`).
 *
 * `ours` writes through a PostgresEvtLog on the run's schema (created by the suite); `raw` runs the same
 * hand-written group commit as the `postgres` suite, on the run's raw table; `checked` its raw group commit
 * with conflict check (raw-checked-commit.ts) on the raw table and its heads.
 */
import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import pg from "pg";
import { driveCounters, EVT_JSON } from "./bench-counter.js";
import { closedLoop, type Measured } from "./closed-loop.js";
import { rawCheckedCommitter } from "./raw-checked-commit.js";
import { rawGroupCommitter } from "./raw-group-commit.js";
import { DEFAULT_DATABASE_URL } from "./service-versions.js";

const DATABASE_URL = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const [mode, schema, processIndex, entityArg, startArg, durationArg] = process.argv.slice(2);
const entities = Number(entityArg);
const loop = { workers: entities, durationMs: Number(durationArg), warmupMs: 300 };
const EVT_BYTES = Buffer.from(EVT_JSON);

async function ours(): Promise<Measured> {
  const log = await PostgresEvtLog.create({
    connectionString: DATABASE_URL,
    schema,
    maxConnections: 2,
    setup: false,
    logger: silentLogger,
  });
  try {
    await waitForStart();
    return await driveCounters(log, loop, `p${processIndex}-c-`);
  } finally {
    await log.close();
  }
}

async function raw(): Promise<Measured> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  const append =
    mode === "checked"
      ? rawCheckedCommitter({
          client,
          table: `"${schema}".raw`,
          heads: `"${schema}".heads`,
          contentType: "application/json",
          bytes: EVT_BYTES,
        })
      : rawGroupCommitter(client, `"${schema}".raw`, "application/json", EVT_BYTES);
  try {
    await waitForStart();
    return await closedLoop(loop, (entity, seq) => append(`p${processIndex}-c-${entity}`, seq + 1));
  } finally {
    await client.end();
  }
}

function waitForStart(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startArg) - Date.now())));
}

const measured = mode === "ours" ? await ours() : await raw();
console.log(JSON.stringify(measured));
