/**
 * `npm run bench [-- --quick]`: runs every benchmark suite as a child process in sequence (core, postgres,
 * nats, then the counter example's workload on PostgreSQL and on NATS), keeps going when one fails, and
 * renders `bench/RESULTS.md` and `bench/results/throughput.svg` from the results files this run wrote.
 * Exits non-zero when any suite failed, after rendering the page that says which.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runCounterWorkload } from "./counter-run.js";
import { loadSuiteFile } from "./load-suite-file.js";
import { replaceMarkedBlock } from "./marked-block.js";
import { quick } from "./measure.js";
import { renderThroughputChart } from "./render-chart.js";
import { renderHeadlineSummary, renderResultsPage } from "./render-results.js";
import { type MachineFacts, machineFacts, type ResultRow, writeResults } from "./results.js";
import { runProcess } from "./run-process.js";
import type { ProcessOutcome, RunReport, SuiteOutcome } from "./run-report.js";
import { succeeded } from "./run-report.js";
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_NATS_URL,
  natsVersion,
  postgresServerVersion,
} from "./service-versions.js";

/**
 * Time budgets per child process. They are safety nets that stop a hung suite from holding up the rest:
 * each suite sizes its own workload to fit the run's overall bound (about 10 minutes full, 1 minute quick).
 */
const BUDGET_SECONDS = quick
  ? { core: 60, postgres: 120, nats: 120, counter: 90 }
  : { core: 150, postgres: 300, nats: 240, counter: 240 };

/** The counter workload: the Rust example's full run, or a reduced one in quick mode. */
const COUNTER_WORKLOAD = quick ? { entityCount: 20, evtCount: 500 } : { entityCount: 100, evtCount: 10_000 };

const SUITES = ["core", "postgres", "nats"] as const;

const benchDir = fileURLToPath(new URL("../", import.meta.url));
const repoRoot = path.resolve(benchDir, "..");
const resultsDir = path.join(benchDir, "results");
const postgresUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const natsUrl = process.env.NATS_URL ?? DEFAULT_NATS_URL;

async function main(): Promise<number> {
  const startedAt = new Date();
  banner(`eventsourced benchmarks (${quick ? "quick" : "full"}), started ${startedAt.toISOString()}`);
  const [postgres, nats] = await Promise.all([postgresServerVersion(postgresUrl), natsVersion(natsUrl)]);
  const machine = machineFacts(withDefined({ postgres, nats }));
  console.log(
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, ` +
      `PostgreSQL ${postgres ?? "unreachable"}, NATS ${nats ?? "unreachable"}`,
  );
  mkdirSync(resultsDir, { recursive: true });

  const suites: SuiteOutcome[] = [];
  for (const suite of SUITES) {
    const outcome = await runSuite(suite);
    suites.push({
      suite,
      file: `bench/results/${suite}.json`,
      processes: [outcome],
      results: loadSuiteFile(path.join(resultsDir, `${suite}.json`), startedAt),
    });
  }
  suites.push(await runCounter(startedAt, machine));

  const report: RunReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    quick,
    machine,
    suites,
  };
  writeReport(report);

  const failed = suites.filter((s) => s.processes.some((p) => !succeeded(p)) || s.results.status !== "fresh");
  banner(
    failed.length === 0
      ? "all suites completed; see bench/RESULTS.md"
      : `${failed.length} suite(s) did not complete cleanly: ${failed.map((s) => s.suite).join(", ")} (see bench/RESULTS.md)`,
  );
  return failed.length === 0 ? 0 : 1;
}

async function runSuite(suite: (typeof SUITES)[number]): Promise<ProcessOutcome> {
  const script = path.join(benchDir, "dist", `${suite}.bench.js`);
  const args = [path.relative(repoRoot, script), ...(quick ? ["--quick"] : [])];
  banner(`${suite} suite: node ${args.join(" ")}`);
  if (!existsSync(script)) {
    const outcome: ProcessOutcome = {
      label: `${suite} suite`,
      command: `node ${args.join(" ")}`,
      exitCode: null,
      signal: null,
      timedOut: false,
      durationSeconds: 0,
      error: `bench/dist/${suite}.bench.js does not exist (is bench/src/${suite}.bench.ts written and built?)`,
    };
    console.error(`bench: ${outcome.error}`);
    return outcome;
  }
  const outcome = await runProcess({
    label: `${suite} suite`,
    command: process.execPath,
    args,
    cwd: repoRoot,
    env: quick ? { BENCH_QUICK: "1" } : {},
    timeoutMs: BUDGET_SECONDS[suite] * 1000,
  });
  logOutcome(outcome);
  return outcome;
}

async function runCounter(startedAt: Date, runMachine: MachineFacts): Promise<SuiteOutcome> {
  const machine = machineFacts(withDefined({ postgres: runMachine.postgres, nats: runMachine.nats }));
  const processes: ProcessOutcome[] = [];
  const rows: ResultRow[] = [];
  for (const log of ["postgres", "nats"] as const) {
    banner(
      `counter on ${log}: ${COUNTER_WORKLOAD.entityCount} entities x ${COUNTER_WORKLOAD.evtCount} commands`,
    );
    const result = await runCounterWorkload({
      log,
      ...COUNTER_WORKLOAD,
      repoRoot,
      postgresUrl,
      natsUrl,
      timeoutMs: BUDGET_SECONDS.counter * 1000,
    });
    logOutcome(result.outcome);
    processes.push(result.outcome);
    rows.push(...result.rows);
  }
  // Written even when empty, so that the page shows this run's counter outcome rather than an older file.
  writeResults("counter", rows, machine);
  return {
    suite: "counter",
    file: "bench/results/counter.json",
    processes,
    results: loadSuiteFile(path.join(resultsDir, "counter.json"), startedAt),
  };
}

function writeReport(report: RunReport): void {
  writeFileSync(path.join(resultsDir, "run.json"), `${JSON.stringify(report, null, 2)}\n`);
  const rows = report.suites.flatMap((s) => (s.results.status === "fresh" ? s.results.results.rows : []));
  const m = report.machine;
  const subtitle =
    `Measured ${report.startedAt.slice(0, 16).replace("T", " ")} UTC${report.quick ? " (quick run)" : ""}: ` +
    `${m.cores} cores, Node ${m.node}, PostgreSQL ${m.postgres ?? "?"}, ${m.nats ?? "NATS ?"}`;
  writeFileSync(path.join(resultsDir, "throughput.svg"), renderThroughputChart(rows, { subtitle }));
  writeFileSync(path.join(benchDir, "RESULTS.md"), renderResultsPage(report));
  console.log("\nwrote bench/RESULTS.md, bench/results/throughput.svg, bench/results/run.json");
  // Only a full run's figures are worth quoting; a quick run must not overwrite them.
  const readme = path.join(benchDir, "README.md");
  if (!report.quick && existsSync(readme)) {
    const text = readFileSync(readme, "utf8");
    const updated = replaceMarkedBlock(
      text,
      "bench-headline",
      renderHeadlineSummary(report, { resultsPath: "RESULTS.md" }),
    );
    if (updated !== text) {
      writeFileSync(readme, updated);
      console.log("updated the headline figures in bench/README.md");
    }
  }
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

function withDefined(facts: { postgres?: string | undefined; nats?: string | undefined }): {
  postgres?: string;
  nats?: string;
} {
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined));
}

process.exitCode = await main().catch((error: unknown) => {
  console.error("bench: the run itself failed:", error);
  return 1;
});
