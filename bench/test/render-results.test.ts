import { describe, expect, it } from "vitest";
import { renderHeadlineSummary, renderResultsPage } from "../src/render-results.js";
import type { ProcessOutcome, RunReport, SuiteOutcome } from "../src/run-report.js";
import { MACHINE, NATS_ROWS, POSTGRES_ROWS, suiteResults } from "./fixtures.js";

const ok = (label: string, command: string): ProcessOutcome => ({
  label,
  command,
  exitCode: 0,
  signal: null,
  timedOut: false,
  durationSeconds: 42,
});

const fresh = (suite: string, rows = POSTGRES_ROWS): SuiteOutcome => ({
  suite,
  file: `bench/results/${suite}.json`,
  processes: [ok(`${suite} suite`, `node bench/dist/${suite}.bench.js`)],
  results: { status: "fresh", results: suiteResults(suite, rows) },
});

const counter: SuiteOutcome = {
  suite: "counter",
  file: "bench/results/counter.json",
  processes: [ok("counter on postgres (100 x 10,000)", "node examples/counter/dist/main.js")],
  results: {
    status: "fresh",
    results: suiteResults("counter", [
      { scenario: "counter on postgres, 100 x 10,000", metric: "write phase", value: 21.5, unit: "s" },
      {
        scenario: "counter on postgres, 100 x 10,000",
        metric: "write throughput",
        value: 46_512,
        unit: "commands/s",
      },
      { scenario: "counter on postgres, 100 x 10,000", metric: "verified", value: 1, unit: "boolean" },
    ]),
  },
};

const report = (suites: readonly SuiteOutcome[], quick = false): RunReport => ({
  startedAt: "2026-11-23T17:45:00.000Z",
  finishedAt: "2026-11-23T17:54:30.000Z",
  quick,
  machine: MACHINE,
  suites,
});

const FULL = report([fresh("postgres"), fresh("nats", NATS_ROWS), counter]);

describe("renderResultsPage", () => {
  it("says when and on what machine the run measured", () => {
    const page = renderResultsPage(FULL);
    expect(page).toContain("2026-11-23 17:45:00 UTC to 2026-11-23 17:54:30 UTC (9.5 min)");
    expect(page).toContain("2 cores, AMD EPYC 7B13");
    expect(page).toContain("8 GiB");
    expect(page).toContain("| Node | v20.20.2 |");
    expect(page).toContain("| PostgreSQL | 15.20 (Debian 15.20-0+deb12u1) |");
    expect(page).toContain("| NATS | nats-server: v2.9.10 |");
    expect(page).toContain("Every figure on this page comes from that run");
  });

  it("renders one table per suite with value, unit, baseline, ratio and spread columns", () => {
    const page = renderResultsPage(FULL);
    for (const suite of ["postgres", "nats", "counter"]) expect(page).toContain(`## ${suite}\n`);
    const header = "| Metric | Value | Unit | Baseline | Ratio | Spread (min–max) | Rounds |";
    expect(page.split(header)).toHaveLength(4);
    expect(page).toContain(
      "| 100 entities, concurrent commands | eventsourced on PostgreSQL | throughput | 40,000 | commands/s | 50,000 | 0.80× | 36,000–44,000 | 5 |",
    );
    expect(page).toContain("| Scenario | System | Metric |");
    expect(page).toContain("| counter on postgres, 100 x 10,000 | write phase | 21.5 | s |");
  });

  it("quotes the headline ratios at 100 entities", () => {
    const page = renderResultsPage(FULL);
    expect(page).toContain("- eventsourced on PostgreSQL / raw PostgreSQL group commit: **0.80×**");
    expect(page).toContain("- eventsourced on PostgreSQL / Emmett: **20.0×**");
    expect(page).toContain("- eventsourced on NATS / raw NATS JetStream: **0.90×**");
  });

  it("shows the counter workload figures and embeds the chart", () => {
    const page = renderResultsPage(FULL);
    expect(page).toContain("| Scenario | write phase (s) | write throughput (commands/s) | verified |");
    expect(page).toContain("| counter on postgres, 100 x 10,000 | 21.5 | 46,512 | yes |");
    expect(page).toMatch(/!\[[^\]]+\]\(results\/throughput\.svg\)/);
  });

  it("shows a stale or missing suite as a notice instead of its figures", () => {
    const page = renderResultsPage(
      report([
        { ...fresh("postgres"), results: { status: "stale", writtenAt: "2026-11-22T09:00:00.000Z" } },
        { ...fresh("nats", NATS_ROWS), results: { status: "missing" } },
        counter,
      ]),
    );
    expect(page).toContain(
      "> **Not measured in this run**: `bench/results/postgres.json` was written at 2026-11-22 09:00:00 UTC, before this run started",
    );
    expect(page).toContain("> **Not measured in this run**: `bench/results/nats.json` does not exist.");
    expect(page).not.toContain("40,000");
    expect(page).toContain(
      "- eventsourced on PostgreSQL / raw PostgreSQL group commit: not measured in this run",
    );
    expect(page).toContain("**2 of 3 suites did not complete cleanly**");
  });

  it("reports a failed or timed-out process", () => {
    const failed: SuiteOutcome = {
      ...fresh("nats", NATS_ROWS),
      processes: [
        {
          ...ok("nats suite", "node bench/dist/nats.bench.js"),
          exitCode: null,
          signal: "SIGTERM",
          timedOut: true,
        },
      ],
      results: { status: "missing" },
    };
    const page = renderResultsPage(report([fresh("postgres"), failed]));
    expect(page).toContain(
      "> **nats suite did not complete cleanly**: killed after exceeding its time budget (SIGTERM).",
    );
    expect(page).toContain("**1 of 2 suites did not complete cleanly**");
  });

  it("marks a quick run as indicative", () => {
    const page = renderResultsPage(report([fresh("postgres")], true));
    expect(page).toContain("`npm run bench -- --quick`");
    expect(page).toContain("**Quick run**");
  });

  it("keeps text from the results files from breaking the tables", () => {
    const page = renderResultsPage(report([fresh("postgres")]));
    expect(page).toContain("| replay 100k events \\| one entity |  | replay |");
  });
});

describe("renderHeadlineSummary", () => {
  it("quotes the ratios and the counter figures with when and where they were measured", () => {
    const summary = renderHeadlineSummary(FULL, { resultsPath: "RESULTS.md" });
    expect(summary).toContain(
      "Measured 2026-11-23 17:45:00 UTC by `npm run bench` on 2 cores (AMD EPYC 7B13)",
    );
    expect(summary).toContain("[RESULTS.md](RESULTS.md)");
    expect(summary).toContain("- eventsourced on PostgreSQL / Emmett: **20.0×**");
    expect(summary).toContain(
      "- counter on postgres, 100 x 10,000: write phase 21.5 s, 46,512 commands/s, verified",
    );
  });
});
