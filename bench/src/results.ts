import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { rowsTable } from "./render-results.js";

/** One measured figure. `baseline`/`ratio` are present when the scenario has a raw-driver baseline. */
export interface ResultRow {
  readonly scenario: string;
  readonly metric: string;
  /** Median over the rounds. */
  readonly value: number;
  readonly unit: string;
  /** Median of the baseline over the same (interleaved) rounds. */
  readonly baseline?: number;
  /** value / baseline for throughput metrics (higher is better); baseline / value for latency (higher is better). */
  readonly ratio?: number;
  /** Spread over the rounds. */
  readonly min?: number;
  readonly max?: number;
  readonly rounds?: number;
  /** Optional grouping for charts, e.g. { series: "eventsourced-postgres", entities: 100 }. */
  readonly series?: string;
  readonly entities?: number;
}

/** Facts about where and when a suite ran; every results file carries them. */
export interface MachineFacts {
  readonly measuredAt: string;
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly postgres?: string;
  readonly nats?: string;
}

/** The content of `bench/results/<suite>.json`. */
export interface SuiteResults {
  readonly suite: string;
  readonly machine: MachineFacts;
  readonly rows: readonly ResultRow[];
}

/** This machine, now, plus the versions of the servers a suite measured. */
export function machineFacts(extra: { postgres?: string; nats?: string } = {}): MachineFacts {
  return {
    measuredAt: new Date().toISOString(),
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    ...extra,
  };
}

/** `bench/results/`, where every suite writes its file. */
export const RESULTS_DIR: string = fileURLToPath(new URL("../results/", import.meta.url));

/** Writes `<dir>/<suite>.json` (by default in `bench/results/`) and prints the rows as the page shows them. */
export function writeResults(
  suite: string,
  rows: readonly ResultRow[],
  machine: MachineFacts,
  dir: string = RESULTS_DIR,
): void {
  mkdirSync(dir, { recursive: true });
  const results: SuiteResults = { suite, machine, rows };
  writeFileSync(path.join(dir, `${suite}.json`), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n== ${suite} ==\n${rowsTable(rows).join("\n")}`);
}
