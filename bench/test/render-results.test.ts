import { describe, expect, it } from "vitest";
import { renderHeadlineSummary, renderResultsPage } from "../src/render-results.js";
import type { ProcessOutcome, RunReport, SuiteOutcome } from "../src/run-report.js";
import { MACHINE, NATS_ROWS, POSTGRES_ROWS, suiteResults } from "./fixtures.js";

// The golden pages are reviewed like code: `npx vitest run bench -u` rewrites them after a deliberate change.

const OK = { exitCode: 0, signal: null, timedOut: false, durationSeconds: 42 } as const;
const ok = (label: string, command: string): ProcessOutcome => ({ label, command, ...OK });

const fresh = (suite: string, rows = POSTGRES_ROWS): SuiteOutcome => ({
  suite,
  file: `bench/results/${suite}.json`,
  processes: [ok(`${suite} suite`, `node bench/dist/${suite}.bench.js`)],
  results: { status: "fresh", results: suiteResults(suite, rows) },
});

const scenario = "counter on postgres, 100 x 10,000";
const counter: SuiteOutcome = {
  ...fresh("counter", [
    { scenario, metric: "write phase", value: 21.5, unit: "s" },
    { scenario, metric: "write throughput", value: 46_512, unit: "commands/s" },
    { scenario, metric: "verified", value: 1, unit: "boolean" },
  ]),
  processes: [ok("counter on postgres (100 x 10,000)", "node examples/counter/dist/main.js")],
};

const RUN = { startedAt: "2026-11-23T17:45:00Z", finishedAt: "2026-11-23T17:54:30Z", machine: MACHINE };
const report = (suites: readonly SuiteOutcome[], quick = false): RunReport => ({ ...RUN, quick, suites });

const [postgres, nats] = [fresh("postgres"), fresh("nats", NATS_ROWS)];
const FULL = report([postgres, nats, counter]);

/** A quick run where postgres left an older file, nats was stopped at its budget and the counter wrote nothing. */
const KILLED = { exitCode: null, signal: "SIGTERM", timedOut: true } as const;
const stale = { ...postgres, results: { status: "stale", writtenAt: "2026-11-22T09:00:00.000Z" } as const };
const killed = { ...nats, processes: [{ ...nats.processes[0]!, ...KILLED }] };
const missing = { ...counter, results: { status: "missing" } as const };
const BROKEN = report([stale, killed, missing], true);

describe("renderResultsPage", () => {
  it("renders machine facts, run status, headline ratios, counter figures, the chart and a table per suite", async () => {
    await expect(renderResultsPage(FULL)).toMatchFileSnapshot("golden/results-page.md");
  });

  it("renders suites without fresh results as notices and marks a quick run as indicative", async () => {
    await expect(renderResultsPage(BROKEN)).toMatchFileSnapshot("golden/results-page-broken-quick.md");
  });

  it("shows no figure from a results file that this run did not write", () => {
    const page = renderResultsPage(BROKEN);
    expect(page).not.toContain("40,000");
    expect(page).toContain(
      "- eventsourced on PostgreSQL / raw PostgreSQL group commit: not measured in this run",
    );
  });
});

describe("renderHeadlineSummary", () => {
  it("quotes the ratios and the counter figures with when and where they were measured", async () => {
    const summary = renderHeadlineSummary(FULL, { resultsPath: "RESULTS.md" });
    await expect(summary).toMatchFileSnapshot("golden/readme-headline.md");
  });
});
