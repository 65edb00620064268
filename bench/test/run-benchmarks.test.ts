import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBenchmarks } from "../src/run-benchmarks.js";
import { incompleteSuites } from "../src/run-report.js";
import { writeReport } from "../src/write-report.js";
import { MACHINE, NATS_ROWS, POSTGRES_ROWS } from "./fixtures.js";
import { parseXml } from "./svg.js";

const root = mkdtempSync(path.join(os.tmpdir(), "bench-run-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const resultsDir = path.join(root, "bench", "results");
mkdirSync(resultsDir, { recursive: true });

/** A fake suite script: writes its results file (or not) and exits as told. */
const suite = (name: string, body: string) => {
  const script = path.join(root, "bench", "dist", `${name}.bench.js`);
  mkdirSync(path.dirname(script), { recursive: true });
  writeFileSync(script, body);
  return { name, script, budgetSeconds: 20 };
};
const writesResults = (name: string, rows: unknown, measuredAt = "new Date().toISOString()") =>
  `import { writeFileSync } from "node:fs";
   const machine = { ...${JSON.stringify(MACHINE)}, measuredAt: ${measuredAt}, quick: process.argv.includes("--quick") };
   writeFileSync(${JSON.stringify(path.join(resultsDir, `${name}.json`))}, JSON.stringify({ suite: "${name}", machine, rows: ${JSON.stringify(rows)} }));`;

describe("runBenchmarks", () => {
  it("runs every suite, keeps going after a failure and tells fresh results from stale ones", async () => {
    // An older run's file for the suite that fails this time: it must not be shown as this run's.
    writeFileSync(
      path.join(resultsDir, "nats.json"),
      JSON.stringify({
        suite: "nats",
        machine: { ...MACHINE, measuredAt: "2020-01-01T00:00:00Z" },
        rows: NATS_ROWS,
      }),
    );
    const report = await runBenchmarks({
      quick: true,
      repoRoot: root,
      resultsDir,
      machine: MACHINE,
      suites: [
        suite("postgres", writesResults("postgres", POSTGRES_ROWS)),
        suite("nats", "process.exit(2)"),
        suite("core", "setInterval(() => {}, 1000);"),
        { name: "absent", script: path.join(root, "bench", "dist", "absent.bench.js"), budgetSeconds: 5 },
      ].map((s) => (s.name === "core" ? { ...s, budgetSeconds: 1 } : s)),
    });

    expect(report.suites.map((s) => [s.suite, s.results.status])).toEqual([
      ["postgres", "fresh"],
      ["nats", "stale"],
      ["core", "missing"],
      ["absent", "missing"],
    ]);
    const [postgres, nats, core, absent] = report.suites;
    expect(postgres!.processes[0]).toMatchObject({
      exitCode: 0,
      command: "node bench/dist/postgres.bench.js --quick",
    });
    expect(postgres!.file).toBe("bench/results/postgres.json");
    expect(nats!.processes[0]!.exitCode).toBe(2);
    expect(core!.processes[0]!.timedOut).toBe(true);
    expect(absent!.processes[0]!.error).toMatch(/does not exist/);
    expect(incompleteSuites(report).map((s) => s.suite)).toEqual(["nats", "core", "absent"]);

    const page = path.join(root, "bench", "RESULTS.md");
    const readme = path.join(root, "bench", "README.md");
    writeFileSync(readme, "# x\n<!-- bench-headline:start -->\nold\n<!-- bench-headline:end -->\n");
    const rootReadme = path.join(root, "README.md");
    writeFileSync(rootReadme, "# root\n<!-- bench-headline:start --><!-- bench-headline:end -->\n");
    const paths = {
      resultsDir,
      page,
      readme,
      headlineIn: [readme, rootReadme, path.join(root, "absent.md")],
    };
    const written = writeReport(report, paths);
    expect(written.map((f) => path.relative(root, f))).toEqual([
      "bench/results/run.json",
      "bench/results/throughput.svg",
      "bench/RESULTS.md",
    ]);
    const markdown = readFileSync(page, "utf8");
    expect(markdown).toContain(
      "![Commands per second against number of entities, one line per system](results/throughput.svg)",
    );
    expect(markdown).toContain(
      "`bench/results/nats.json` was written at 2020-01-01 00:00:00 UTC, before this run started",
    );
    expect(markdown).toContain("- eventsourced on PostgreSQL / raw PostgreSQL group commit: **0.80×**");
    expect(markdown).toContain("- eventsourced on NATS / raw NATS JetStream: not measured in this run");
    const svg = parseXml(readFileSync(path.join(resultsDir, "throughput.svg"), "utf8"));
    expect(svg.name).toBe("svg");
    // A quick run leaves the README's quoted figures alone.
    expect(readFileSync(readme, "utf8")).toContain("\nold\n");

    writeReport({ ...report, quick: false }, paths);
    expect(readFileSync(readme, "utf8")).toContain("[RESULTS.md](RESULTS.md)");
    expect(readFileSync(rootReadme, "utf8")).toContain("[bench/RESULTS.md](bench/RESULTS.md)");
  });
});
