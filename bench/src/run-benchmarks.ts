import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { type CounterPlan, runCounterWorkload } from "./counter-run.js";
import { loadSuiteFile } from "./load-suite-file.js";
import { type MachineFacts, type ResultRow, writeResults } from "./results.js";
import { notRun, runProcess } from "./run-process.js";
import { describeOutcome, type ProcessOutcome, type RunReport, type SuiteOutcome } from "./run-report.js";
import type { SuiteEntry } from "./suites.js";

/** What one benchmark run does. */
export interface BenchmarkPlan {
  readonly quick: boolean;
  /**
   * The benchmark directory: suite scripts in `dist/<name>.bench.js`, results files in `results/`. Processes
   * run in the directory above it (the repository root), and paths on the page are relative to that.
   */
  readonly benchDir: string;
  readonly suites: readonly SuiteEntry[];
  /** Omitted: no counter runs and no `counter.json`. */
  readonly counter?: CounterPlan;
  /** Facts gathered before the run, including the server versions. */
  readonly machine: MachineFacts;
}

/**
 * Runs every suite of the plan in sequence, then the counter workloads, and reports how each ended and which
 * results files this run wrote. Never rejects because a suite failed: the report says so instead.
 */
export async function runBenchmarks(plan: BenchmarkPlan): Promise<RunReport> {
  const startedAt = new Date();
  const repoRoot = path.dirname(plan.benchDir);
  const resultsDir = path.join(plan.benchDir, "results");
  mkdirSync(resultsDir, { recursive: true });
  const outcome = (suite: string, processes: readonly ProcessOutcome[], since: Date): SuiteOutcome => {
    const file = path.join(resultsDir, `${suite}.json`);
    // The file must come from these processes: measured after they started and before they ended.
    const results = loadSuiteFile(file, since, new Date());
    return { suite, file: path.relative(repoRoot, file), processes, results };
  };
  const suites: SuiteOutcome[] = [];
  for (const { name, budgetSeconds, nodeFlags } of plan.suites) {
    const since = new Date();
    const script = path.relative(repoRoot, path.join(plan.benchDir, "dist", `${name}.bench.js`));
    const args = [...(nodeFlags ?? []), script, ...(plan.quick ? ["--quick"] : [])];
    const [label, command] = [`${name} suite`, `node ${args.join(" ")}`];
    console.log(`\n=== ${label}: ${command} ===`);
    const env = plan.quick ? { BENCH_QUICK: "1" } : {};
    const timeoutMs = budgetSeconds[plan.quick ? "quick" : "full"] * 1000;
    const ran = existsSync(path.join(repoRoot, script))
      ? await runProcess({ label, command: process.execPath, args, cwd: repoRoot, env, timeoutMs })
      : notRun(label, command, `${script} does not exist (is the suite written and built?)`);
    suites.push(outcome(name, [logged(ran)], since));
  }
  if (plan.counter) {
    const since = new Date();
    const processes: ProcessOutcome[] = [];
    const rows: ResultRow[] = [];
    for (const log of plan.counter.logs) {
      const { entityCount, evtCount } = plan.counter;
      console.log(`\n=== counter on ${log}: ${entityCount} entities x ${evtCount} commands ===`);
      const result = await runCounterWorkload(plan.counter, log, repoRoot);
      processes.push(logged(result.outcome));
      rows.push(...result.rows);
    }
    // Written even when empty, so that the page shows this run's counter outcome rather than an older file.
    writeResults("counter", rows, { ...plan.machine, measuredAt: new Date().toISOString() }, resultsDir);
    suites.push(outcome("counter", processes, since));
  }
  const finishedAt = new Date().toISOString();
  return { startedAt: startedAt.toISOString(), finishedAt, quick: plan.quick, machine: plan.machine, suites };
}

function logged(o: ProcessOutcome): ProcessOutcome {
  console.log(`bench: ${o.label}: ${describeOutcome(o)} after ${o.durationSeconds.toFixed(1)} s`);
  return o;
}
