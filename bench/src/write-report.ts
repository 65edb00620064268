import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderThroughputChart } from "./render-chart.js";
import { renderHeadlineSummary, renderResultsPage } from "./render-results.js";
import { freshRows, type RunReport } from "./run-report.js";

/**
 * Writes a run's report into the benchmark directory `benchDir`: `results/run.json`, the chart
 * `results/throughput.svg` and the page `RESULTS.md`, all from the report's fresh results only; after a full
 * run also the headline blocks of `README.md` there and in the repository root above it. Returns the paths
 * written.
 */
export function writeReport(report: RunReport, benchDir: string): string[] {
  const m = report.machine;
  const subtitle =
    `Measured ${report.startedAt.slice(0, 16).replace("T", " ")} UTC${report.quick ? " (quick run)" : ""}: ` +
    `${m.cores} cores, Node ${m.node}, PostgreSQL ${m.postgres ?? "?"}, ${m.nats ?? "NATS ?"}`;
  const page = path.join(benchDir, "RESULTS.md");
  const chart = renderThroughputChart(freshRows(report.suites), { subtitle });
  const files: [file: string, content: string][] = [
    [path.join(benchDir, "results", "run.json"), `${JSON.stringify(report, null, 2)}\n`],
    [path.join(benchDir, "results", "throughput.svg"), chart],
    [page, renderResultsPage(report)],
  ];
  // Only a full run's figures are worth quoting; a quick run must not overwrite them.
  for (const dir of report.quick ? [] : [benchDir, path.dirname(benchDir)]) {
    const readme = path.join(dir, "README.md");
    if (!existsSync(readme)) continue;
    const text = readFileSync(readme, "utf8");
    const resultsPath = path.relative(dir, page).split(path.sep).join("/");
    const updated = replaceMarkedBlock(
      text,
      "bench-headline",
      renderHeadlineSummary(report, { resultsPath }),
    );
    if (updated !== text) files.push([readme, updated]);
  }
  for (const [file, content] of files) writeFileSync(file, content);
  return files.map(([file]) => file);
}

/**
 * Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in a Markdown document, keeping
 * the markers, so that generated figures can live inside a hand-written page. Returns the text unchanged
 * when the markers are absent or out of order.
 */
export function replaceMarkedBlock(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end, from + start.length);
  if (from < 0 || to < 0) return text;
  return `${text.slice(0, from + start.length)}\n${content.trim()}\n${text.slice(to)}`;
}
