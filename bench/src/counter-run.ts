import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { counterRows, parseCounterSummary } from "./counter-summary.js";
import type { ResultRow } from "./results.js";
import { runProcess } from "./run-process.js";
import type { ProcessOutcome } from "./run-report.js";
import { DATABASE_URL, NATS_URL, withClient } from "./service-versions.js";

/** Which event log the counter runs on. */
export type CounterLog = "postgres" | "nats";

/** The counter example's workload, run once per log. */
export interface CounterPlan {
  readonly logs: readonly CounterLog[];
  readonly entityCount: number;
  readonly evtCount: number;
  readonly budgetSeconds: number;
}

const MAIN = "examples/counter/dist/main.js";

/**
 * Runs the counter example (`examples/counter/dist/main.js`, from the repository root `cwd`) as a child
 * process on a fresh schema or stream (of DATABASE_URL or NATS_URL), so that it starts from zero whatever
 * earlier runs left, reads the summary it writes, and removes the schema or streams afterwards, whether the
 * run succeeded or not. Returns how it ended and the rows of its summary (none when it wrote none).
 */
export async function runCounterWorkload(
  plan: CounterPlan,
  log: CounterLog,
  cwd: string,
): Promise<{ outcome: ProcessOutcome; rows: readonly ResultRow[] }> {
  const { entityCount, evtCount } = plan;
  const token = `bench_counter_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const label = `counter on ${log} (${entityCount.toLocaleString("en-US")} x ${evtCount.toLocaleString("en-US")})`;
  const workload = {
    APP__COUNTER__ENTITY_COUNT: String(entityCount),
    APP__COUNTER__EVT_COUNT: String(evtCount),
    APP__EVT_LOG__KIND: log,
  };
  const summaryDir = mkdtempSync(path.join(os.tmpdir(), "eventsourced-bench-"));
  const summaryFile = path.join(summaryDir, "summary.json");
  const env = {
    ...workload,
    APP__OUTPUT__PROGRESS: "off",
    APP__OUTPUT__SUMMARY_FILE: summaryFile,
    ...(log === "postgres"
      ? { APP__EVT_LOG__POSTGRES__URL: DATABASE_URL, APP__EVT_LOG__POSTGRES__SCHEMA: token }
      : {
          APP__EVT_LOG__NATS__URL: NATS_URL,
          APP__EVT_LOG__NATS__STREAM: token.toUpperCase(),
          // Subjects of two streams must not overlap, and an earlier run's snapshots must not shortcut recovery.
          APP__EVT_LOG__NATS__SUBJECT_PREFIX: token,
          APP__EVT_LOG__NATS__BUCKET: `${token}-snapshots`,
        }),
  };
  try {
    const timeoutMs = plan.budgetSeconds * 1000;
    const ran = await runProcess({ label, command: process.execPath, args: [MAIN], cwd, env, timeoutMs });
    const vars = Object.entries(workload).map(([name, value]) => `${name}=${value}`);
    const outcome = { ...ran, command: `${vars.join(" ")} node ${MAIN}` };
    let rows: ResultRow[] = [];
    let error: string | undefined;
    try {
      const summary = parseCounterSummary(readFileSync(summaryFile, "utf8"));
      rows = counterRows(summary);
      const reported = summary.error ?? (summary.interrupted ? "the run was interrupted" : undefined);
      if (reported !== undefined) error = `the counter reported: ${reported}`;
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      error = missing ? "it wrote no summary file" : `unreadable summary: ${(err as Error).message}`;
    }
    return { outcome: error === undefined ? outcome : { ...outcome, error: outcome.error ?? error }, rows };
  } finally {
    rmSync(summaryDir, { recursive: true, force: true });
    await cleanUp(log, token).catch((error: unknown) => {
      console.error(`bench: could not clean up the counter's ${log} ${token}: ${(error as Error).message}`);
    });
  }
}

/** Drops what the counter run created: its schema, or every stream (log, snapshot KV) named after the token. */
async function cleanUp(log: CounterLog, token: string): Promise<void> {
  if (log === "postgres") {
    await withClient((client) => client.query(`DROP SCHEMA IF EXISTS "${token}" CASCADE`));
    return;
  }
  const nc = await connect({ servers: NATS_URL, timeout: 5_000 });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names())
      if (name.toUpperCase().includes(token.toUpperCase())) names.push(name);
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}
