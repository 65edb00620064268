import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBenchmarks } from "../src/run-benchmarks.js";
import { incompleteSuites } from "../src/run-report.js";
import { SUITES } from "../src/suites.js";
import { writeReport } from "../src/write-report.js";
import { MACHINE, NATS_ROWS, POSTGRES_ROWS } from "./fixtures.js";
import { findAll, parseXml } from "./svg.js";

const root = mkdtempSync(path.join(os.tmpdir(), "bench-run-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const benchDir = path.join(root, "bench");
const resultsDir = path.join(benchDir, "results");
mkdirSync(path.join(benchDir, "dist"), { recursive: true });
mkdirSync(resultsDir, { recursive: true });

/** A fake suite script: writes its results file (or not, when empty) and exits as told. */
const suite = (name: string, body: string, budgetSeconds = 20) => {
  if (body) writeFileSync(path.join(benchDir, "dist", `${name}.bench.js`), body);
  return { name, budgetSeconds: { quick: budgetSeconds, full: budgetSeconds } };
};
const writesResults = (name: string, rows: unknown) =>
  `import { writeFileSync } from "node:fs";
   const machine = { ...${JSON.stringify(MACHINE)}, measuredAt: new Date().toISOString() };
   writeFileSync(${JSON.stringify(path.join(resultsDir, `${name}.json`))}, JSON.stringify({ suite: "${name}", machine, rows: ${JSON.stringify(rows)} }));`;

describe("runBenchmarks", () => {
  it("runs every suite, keeps going after a failure and tells fresh results from stale ones", async () => {
    // An older run's file for the suite that fails this time: it must not be shown as this run's.
    const machine = { ...MACHINE, measuredAt: "2020-01-01T00:00:00Z" };
    writeFileSync(
      path.join(resultsDir, "nats.json"),
      JSON.stringify({ suite: "nats", machine, rows: NATS_ROWS }),
    );
    const report = await runBenchmarks({
      quick: true,
      benchDir,
      machine: MACHINE,
      suites: [
        suite("postgres", writesResults("postgres", POSTGRES_ROWS)),
        suite("nats", "process.exit(2)"),
        suite("core", "setInterval(() => {}, 1000);", 1),
        { ...suite("absent", ""), nodeFlags: ["--expose-gc"] },
      ],
    });

    const statuses = report.suites.map((s) => `${s.suite} ${s.results.status}`);
    expect(statuses).toEqual(["postgres fresh", "nats stale", "core missing", "absent missing"]);
    const [postgres, nats, core, absent] = report.suites.map((s) => s.processes[0]!);
    expect(postgres).toMatchObject({ exitCode: 0, command: "node bench/dist/postgres.bench.js --quick" });
    expect(report.suites[0]!.file).toBe("bench/results/postgres.json");
    expect(nats!.exitCode).toBe(2);
    expect(core!.timedOut).toBe(true);
    expect(absent!.error).toMatch(/^bench\/dist\/absent\.bench\.js does not exist/);
    expect(incompleteSuites(report).map((s) => s.suite)).toEqual(["nats", "core", "absent"]);

    const readme = path.join(benchDir, "README.md");
    writeFileSync(readme, "# x\n<!-- bench-headline:start -->\nold\n<!-- bench-headline:end -->\n");
    const rootReadme = path.join(root, "README.md");
    writeFileSync(rootReadme, "# root\n<!-- bench-headline:start --><!-- bench-headline:end -->\n");
    const written = writeReport(report, benchDir);
    const files = ["bench/results/run.json", "bench/results/throughput.svg", "bench/RESULTS.md"];
    expect(written.map((f) => path.relative(root, f))).toEqual(files);
    expect(readFileSync(path.join(benchDir, "RESULTS.md"), "utf8")).toContain("](results/throughput.svg)");
    const svg = readFileSync(path.join(resultsDir, "throughput.svg"), "utf8");
    expect(findAll(parseXml(svg), "svg")).toHaveLength(1);
    // A quick run leaves the README's quoted figures alone; a full run rewrites them.
    expect(readFileSync(readme, "utf8")).toContain("\nold\n");
    writeReport({ ...report, quick: false }, benchDir);
    expect(readFileSync(readme, "utf8")).toContain("[RESULTS.md](RESULTS.md)");
    expect(readFileSync(rootReadme, "utf8")).toContain("[bench/RESULTS.md](bench/RESULTS.md)");
  });
});

describe("SUITES", () => {
  it("names a suite script for every registered suite", () => {
    for (const { name } of SUITES)
      expect(existsSync(new URL(`../src/${name}.bench.ts`, import.meta.url))).toBe(true);
  });
});
