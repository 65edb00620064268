/**
 * One writer process of the `postgres-scale` suite: `node bench/dist/scale-writer.js <ours|raw> <schema>
 * <process> <entities> <startAtMs> <durationMs>`. Waits until `startAtMs` (so that every process of a run
 * starts together), drives `entities` closed loops on its own entities (`p<process>-c-<n>`) for
 * `durationMs`, and prints one JSON line: its commands per second (see `closedLoop`).
 *
 * `ours` writes through a PostgresEvtLog on the run's schema (created by the suite); `raw` runs the same
 * hand-written group commit as the `postgres` suite, on the run's raw table.
 */
import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import pg from "pg";
import { driveCounters, EVT_JSON } from "./bench-counter.js";
import { closedLoop, type Measured } from "./closed-loop.js";
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
  const sql = `INSERT INTO "${schema}".raw (type, id, seq_no, content_type, bytes)
    SELECT 'counter', id, seq_no, 'application/json', bytes FROM unnest($1::text[], $2::int8[], $3::bytea[]) AS t(id, seq_no, bytes)`;
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
    await waitForStart();
    return await closedLoop(
      loop,
      (entity, seq) =>
        new Promise<void>((done, fail) => {
          queue.push({ id: `p${processIndex}-c-${entity}`, seq: seq + 1, done, fail });
          if (!running) queueMicrotask(() => void drain());
        }),
    );
  } finally {
    await client.end();
  }
}

function waitForStart(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startArg) - Date.now())));
}

const measured = mode === "ours" ? await ours() : await raw();
console.log(JSON.stringify(measured));
