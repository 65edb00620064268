import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBenchmarks } from "../src/run-benchmarks.js";
import { incompleteSuites } from "../src/run-report.js";
import { SUITES } from "../src/suites.js";
import { writeReport } from "../src/write-report.js";
import { MACHINE, NATS_ROWS, POSTGRES_ROWS } from "./fixtures.js";
import { parseXml } from "./svg.js";

const root = mkdtempSync(path.join(os.tmpdir(), "bench-run-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const resultsDir = path.join(root, "bench", "results");
mkdirSync(resultsDir, { recursive: true });

/** A fake suite script: writes its results file (or not) and exits as told. */
const suite = (name: string, body: string, budgetSeconds = 20) => {
  const script = path.join(root, "bench", "dist", `${name}.bench.js`);
  mkdirSync(path.dirname(script), { recursive: true });
  if (body) writeFileSync(script, body);
  return { name, script, budgetSeconds };
};
const writesResults = (name: string, rows: unknown) =>
  `import { writeFileSync } from "node:fs";
   const machine = { ...${JSON.stringify(MACHINE)}, measuredAt: new Date().toISOString() };
   writeFileSync(${JSON.stringify(path.join(resultsDir, `${name}.json`))}, JSON.stringify({ suite: "${name}", machine, rows: ${JSON.stringify(rows)} }));`;

describe("runBenchmarks", () => {
  it("runs every suite, keeps going after a failure and tells fresh results from stale ones", async () => {
    // An older run's file for the suite that fails this time: it must not be shown as this run's.
    const old = {
      suite: "nats",
      machine: { ...MACHINE, measuredAt: "2020-01-01T00:00:00Z" },
      rows: NATS_ROWS,
    };
    writeFileSync(path.join(resultsDir, "nats.json"), JSON.stringify(old));
    const report = await runBenchmarks({
      quick: true,
      repoRoot: root,
      resultsDir,
      machine: MACHINE,
      suites: [
        suite("postgres", writesResults("postgres", POSTGRES_ROWS)),
        suite("nats", "process.exit(2)"),
        suite("core", "setInterval(() => {}, 1000);", 1),
        suite("absent", ""),
      ],
    });

    expect(report.suites.map((s) => [s.suite, s.results.status])).toEqual([
      ["postgres", "fresh"],
      ["nats", "stale"],
      ["core", "missing"],
      ["absent", "missing"],
    ]);
    const [postgres, nats, core, absent] = report.suites.map((s) => s.processes[0]!);
    expect(postgres).toMatchObject({ exitCode: 0, command: "node bench/dist/postgres.bench.js --quick" });
    expect(report.suites[0]!.file).toBe("bench/results/postgres.json");
    expect(nats!.exitCode).toBe(2);
    expect(core!.timedOut).toBe(true);
    expect(absent!.error).toMatch(/does not exist/);
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
    expect(readFileSync(page, "utf8")).toContain("](results/throughput.svg)");
    expect(parseXml(readFileSync(path.join(resultsDir, "throughput.svg"), "utf8")).name).toBe("svg");
    // A quick run leaves the README's quoted figures alone; a full run rewrites them.
    expect(readFileSync(readme, "utf8")).toContain("\nold\n");
    writeReport({ ...report, quick: false }, paths);
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
