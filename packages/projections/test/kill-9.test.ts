import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deposit, seededRandom, waitUntil } from "./support/fixtures.js";
import { DATABASE_URL, dropSchema, namedPool, uniqueSchemaName } from "./support/pg-env.js";
import { exactlyOnceVerdict, ReadModel } from "./support/read-model.js";

// kill -9 of the projection's process while it works, then a restart, several times over, while entities
// write. The audit table counts applications per position. Runs the built dist: `npx tsc -b` first.

const FIXTURE = fileURLToPath(new URL("./fixtures/projection-process.mjs", import.meta.url));
const KILLS = 4;
const SAVE_AFTER = 50;
const MAX_EVENTS = 25;

function startProjection(env: Record<string, string>): { child: ChildProcess; running: Promise<void> } {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const running = new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("running")) resolve();
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`projection process exited (${code ?? signal}):\n${err}`)),
    );
  });
  running.catch(() => {});
  return { child, running };
}

function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

describe.each(["exactly-once", "at-least-once"] as const)("kill -9 of a %s projection's process", (mode) => {
  const schema = uniqueSchemaName(mode === "exactly-once" ? "kill_eo" : "kill_alo");
  let pool: pg.Pool;
  let log: PostgresEvtLog;

  beforeAll(async () => {
    pool = await namedPool(`kill-${schema}`, 4);
    log = await PostgresEvtLog.create({ pool, schema, logger: silentLogger });
  });
  afterAll(async () => {
    await log?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  it(mode === "exactly-once"
    ? "restarts with 0 lost and 0 duplicate effects"
    : "restarts with 0 lost effects and duplicates only within the save window", async () => {
    const type = "killed";
    const model = new ReadModel(pool, schema);
    await model.create();
    const random = seededRandom(mode.length);
    const env = {
      DATABASE_URL,
      SCHEMA: schema,
      TYPE: type,
      MODE: mode,
      NAME: "killed",
      SAVE_AFTER: String(SAVE_AFTER),
      MAX_EVENTS: String(MAX_EVENTS),
    };
    const windows: { saved: number; applied: number }[] = [];
    let writing = true;
    const writer = (async () => {
      for (let round = 0; writing; round++) {
        await Promise.all(
          Array.from({ length: 20 }, (_, e) => log.persist(type, `e${e}`, round, [deposit(e + 1)])),
        );
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      for (let i = 0; i < KILLS; i++) {
        const appName = `${schema}-${i}`;
        const { child, running } = startProjection({ ...env, APP_NAME: appName });
        await running;
        await new Promise((resolve) => setTimeout(resolve, 100 + random() * 500));
        await kill(child, "SIGKILL");
        // Its backends may still finish a statement in flight: measure once they are gone.
        await waitUntil(
          async () =>
            (await pool.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1", [appName]))
              .rowCount === 0,
          "the killed process's backends to end",
        );
        // The save window this crash leaves: applied after the stored checkpoint, so applied again later.
        const saved = await pool.query(`SELECT position FROM "${schema}".projections WHERE name = 'killed'`);
        const applied = await pool.query(`SELECT coalesce(max(position), 0) AS max FROM ${model.applied}`);
        windows.push({ saved: Number(saved.rows[0].position), applied: Number(applied.rows[0].max) });
      }
    } finally {
      writing = false;
      await writer;
    }
    const last = startProjection(env);
    const head = (await log.headOfType(type))!.position;
    await waitUntil(
      async () => (await model.audit()).has(head),
      "the restarted projection to catch up",
      60_000,
    );
    await kill(last.child, "SIGTERM");

    const verdict = await exactlyOnceVerdict(model, log, type);
    expect(verdict.missing).toBe(0);
    expect(verdict.foreign).toBe(0);
    if (mode === "exactly-once") {
      expect(verdict).toMatchObject({ duplicated: 0, gaps: 0, wrongTotals: 0 });
    } else {
      // After each kill the events since the last save are applied again: at most one save window plus the
      // batch that crossed it.
      expect(verdict.duplicated).toBeLessThanOrEqual(KILLS * (SAVE_AFTER + MAX_EVENTS));
      const twice = [...(await model.audit())].filter(([, a]) => a.count > 1).map(([position]) => position);
      const outside = twice.filter((p) => !windows.some((w) => w.saved < p && p <= w.applied));
      expect(outside).toEqual([]);
    }
    console.info(
      `${mode}: ${verdict.events} events, ${KILLS} kills, ${verdict.duplicated} positions applied twice`,
    );
  }, 120_000);
});
