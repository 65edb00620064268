import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { type CounterLog, runCounterWorkload } from "./counter-run.js";
import { loadSuiteFile } from "./load-suite-file.js";
import { type MachineFacts, type ResultRow, writeResults } from "./results.js";
import { notRun, runProcess } from "./run-process.js";
import { type ProcessOutcome, type RunReport, type SuiteOutcome, succeeded } from "./run-report.js";

/** One suite script to run: `node <script> [--quick]`, which writes `<resultsDir>/<name>.json`. */
export interface SuitePlan {
  readonly name: string;
  /** Absolute path of the built script. */
  readonly script: string;
  readonly budgetSeconds: number;
}

/** The counter example's workload, run once per log. */
export interface CounterPlan {
  readonly logs: readonly CounterLog[];
  readonly entityCount: number;
  readonly evtCount: number;
  readonly budgetSeconds: number;
  readonly postgresUrl: string;
  readonly natsUrl: string;
}

/** What one benchmark run does. */
export interface BenchmarkPlan {
  readonly quick: boolean;
  /** Working directory of every process; paths on the page are relative to it. */
  readonly repoRoot: string;
  readonly resultsDir: string;
  readonly suites: readonly SuitePlan[];
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
  mkdirSync(plan.resultsDir, { recursive: true });
  const suites: SuiteOutcome[] = [];
  for (const suite of plan.suites) {
    const suiteStartedAt = new Date();
    const args = [path.relative(plan.repoRoot, suite.script), ...(plan.quick ? ["--quick"] : [])];
    const label = `${suite.name} suite`;
    banner(`${label}: node ${args.join(" ")}`);
    const outcome = existsSync(suite.script)
      ? await runProcess({
          label,
          command: process.execPath,
          args,
          cwd: plan.repoRoot,
          env: plan.quick ? { BENCH_QUICK: "1" } : {},
          timeoutMs: suite.budgetSeconds * 1000,
        })
      : notRun(
          label,
          `node ${args.join(" ")}`,
          `${args[0]} does not exist (is the suite written and built?)`,
        );
    suites.push(suiteOutcome(plan, suite.name, [logged(outcome)], suiteStartedAt));
  }
  if (plan.counter) suites.push(await runCounter(plan, plan.counter));
  const finishedAt = new Date().toISOString();
  return { startedAt: startedAt.toISOString(), finishedAt, quick: plan.quick, machine: plan.machine, suites };
}

async function runCounter(plan: BenchmarkPlan, counter: CounterPlan): Promise<SuiteOutcome> {
  const startedAt = new Date();
  const processes: ProcessOutcome[] = [];
  const rows: ResultRow[] = [];
  for (const log of counter.logs) {
    banner(`counter on ${log}: ${counter.entityCount} entities x ${counter.evtCount} commands`);
    const result = await runCounterWorkload({
      ...counter,
      log,
      repoRoot: plan.repoRoot,
      timeoutMs: counter.budgetSeconds * 1000,
    });
    processes.push(logged(result.outcome));
    rows.push(...result.rows);
  }
  // Written even when empty, so that the page shows this run's counter outcome rather than an older file.
  writeResults("counter", rows, { ...plan.machine, measuredAt: new Date().toISOString() }, plan.resultsDir);
  return suiteOutcome(plan, "counter", processes, startedAt);
}

function suiteOutcome(
  plan: BenchmarkPlan,
  suite: string,
  processes: readonly ProcessOutcome[],
  startedAt: Date,
): SuiteOutcome {
  const file = path.join(plan.resultsDir, `${suite}.json`);
  // The file must come from these processes: measured after they started and before they ended.
  const results = loadSuiteFile(file, startedAt, new Date());
  return { suite, file: path.relative(plan.repoRoot, file), processes, results };
}

function logged(outcome: ProcessOutcome): ProcessOutcome {
  const how = succeeded(outcome)
    ? "ok"
    : outcome.timedOut
      ? "TIMED OUT"
      : `FAILED (${outcome.error ?? (outcome.signal ? `signal ${outcome.signal}` : `exit code ${outcome.exitCode}`)})`;
  console.log(`bench: ${outcome.label}: ${how} after ${outcome.durationSeconds.toFixed(1)} s`);
  return outcome;
}

function banner(text: string): void {
  console.log(`\n=== ${text} ===`);
}
