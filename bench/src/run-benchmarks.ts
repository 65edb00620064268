import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type CounterLog, runCounterWorkload } from "./counter-run.js";
import { loadSuiteFile } from "./load-suite-file.js";
import { type MachineFacts, machineFacts, printTable, type ResultRow, type SuiteResults } from "./results.js";
import { runProcess } from "./run-process.js";
import type { ProcessOutcome, RunReport, SuiteOutcome } from "./run-report.js";
import { succeeded } from "./run-report.js";

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
    const processStartedAt = new Date();
    const outcome = await runSuite(plan, suite);
    suites.push(suiteOutcome(plan, suite.name, [outcome], processStartedAt));
  }
  if (plan.counter) suites.push(await runCounter(plan, plan.counter, new Date()));
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    quick: plan.quick,
    machine: plan.machine,
    suites,
  };
}

async function runSuite(plan: BenchmarkPlan, suite: SuitePlan): Promise<ProcessOutcome> {
  const args = [path.relative(plan.repoRoot, suite.script), ...(plan.quick ? ["--quick"] : [])];
  const label = `${suite.name} suite`;
  banner(`${label}: node ${args.join(" ")}`);
  if (!existsSync(suite.script)) {
    const outcome: ProcessOutcome = {
      label,
      command: `node ${args.join(" ")}`,
      exitCode: null,
      signal: null,
      timedOut: false,
      durationSeconds: 0,
      error: `${args[0]} does not exist (is the suite written and built?)`,
    };
    logOutcome(outcome);
    return outcome;
  }
  const outcome = await runProcess({
    label,
    command: process.execPath,
    args,
    cwd: plan.repoRoot,
    env: plan.quick ? { BENCH_QUICK: "1" } : {},
    timeoutMs: suite.budgetSeconds * 1000,
  });
  logOutcome(outcome);
  return outcome;
}

async function runCounter(plan: BenchmarkPlan, counter: CounterPlan, startedAt: Date): Promise<SuiteOutcome> {
  const { postgres, nats } = plan.machine;
  const machine = machineFacts({ ...(postgres ? { postgres } : {}), ...(nats ? { nats } : {}) });
  const processes: ProcessOutcome[] = [];
  const rows: ResultRow[] = [];
  for (const log of counter.logs) {
    banner(`counter on ${log}: ${counter.entityCount} entities x ${counter.evtCount} commands`);
    const result = await runCounterWorkload({
      log,
      entityCount: counter.entityCount,
      evtCount: counter.evtCount,
      repoRoot: plan.repoRoot,
      postgresUrl: counter.postgresUrl,
      natsUrl: counter.natsUrl,
      timeoutMs: counter.budgetSeconds * 1000,
    });
    logOutcome(result.outcome);
    processes.push(result.outcome);
    rows.push(...result.rows);
  }
  // Written even when empty, so that the page shows this run's counter outcome rather than an older file.
  const results: SuiteResults = { suite: "counter", machine, rows };
  writeFileSync(path.join(plan.resultsDir, "counter.json"), `${JSON.stringify(results, null, 2)}\n`);
  printTable("counter", rows);
  return suiteOutcome(plan, "counter", processes, startedAt);
}

function suiteOutcome(
  plan: BenchmarkPlan,
  suite: string,
  processes: readonly ProcessOutcome[],
  processesStartedAt: Date,
): SuiteOutcome {
  const file = path.join(plan.resultsDir, `${suite}.json`);
  // The file must come from these processes: written after they started and not changed since they ended
  // (the slack covers file-system timestamp granularity).
  const writtenBefore = new Date(Date.now() + 1_000);
  return {
    suite,
    file: path.relative(plan.repoRoot, file),
    processes,
    results: loadSuiteFile(file, processesStartedAt, { writtenBefore }),
  };
}

function logOutcome(outcome: ProcessOutcome): void {
  const how = succeeded(outcome)
    ? "ok"
    : outcome.timedOut
      ? "TIMED OUT"
      : `FAILED (${outcome.error ?? (outcome.signal ? `signal ${outcome.signal}` : `exit code ${outcome.exitCode}`)})`;
  console.log(`bench: ${outcome.label}: ${how} after ${outcome.durationSeconds.toFixed(1)} s`);
}

function banner(text: string): void {
  console.log(`\n=== ${text} ===`);
}
