import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderThroughputChart } from "./render-chart.js";
import { renderHeadlineSummary, renderResultsPage } from "./render-results.js";
import type { RunReport } from "./run-report.js";

/** Where {@link writeReport} writes. */
export interface ReportPaths {
  /** Receives `run.json` and `throughput.svg`. */
  readonly resultsDir: string;
  /** The results page, e.g. `bench/RESULTS.md`; the chart is linked relative to it. */
  readonly page: string;
  /** The benchmark README, which the page links for how to read the figures. */
  readonly readme?: string;
  /**
   * Documents whose `<!-- bench-headline:start -->` ... `<!-- bench-headline:end -->` block quotes a full
   * run's headline figures (e.g. the benchmark README and the repository README); those without the markers
   * are left alone.
   */
  readonly headlineIn?: readonly string[];
}

/**
 * Writes a run's report (`run.json`), the throughput chart and the results page, all from the report's
 * fresh results only, and, after a full run, the headline blocks of `headlineIn`. Returns the paths written.
 */
export function writeReport(report: RunReport, paths: ReportPaths): string[] {
  const written: string[] = [];
  const write = (file: string, content: string) => {
    writeFileSync(file, content);
    written.push(file);
  };
  write(path.join(paths.resultsDir, "run.json"), `${JSON.stringify(report, null, 2)}\n`);

  const rows = report.suites.flatMap((s) => (s.results.status === "fresh" ? s.results.results.rows : []));
  const m = report.machine;
  const subtitle =
    `Measured ${report.startedAt.slice(0, 16).replace("T", " ")} UTC${report.quick ? " (quick run)" : ""}: ` +
    `${m.cores} cores, Node ${m.node}, PostgreSQL ${m.postgres ?? "?"}, ${m.nats ?? "NATS ?"}`;
  const chart = path.join(paths.resultsDir, "throughput.svg");
  write(chart, renderThroughputChart(rows, { subtitle }));

  const pageDir = path.dirname(paths.page);
  const chartPath = path.relative(pageDir, chart).split(path.sep).join("/");
  const readmePath = paths.readme
    ? path.relative(pageDir, paths.readme).split(path.sep).join("/")
    : "README.md";
  write(paths.page, renderResultsPage(report, { chartPath, readmePath }));

  // Only a full run's figures are worth quoting; a quick run must not overwrite them.
  for (const doc of report.quick ? [] : (paths.headlineIn ?? [])) {
    if (!existsSync(doc)) continue;
    const text = readFileSync(doc, "utf8");
    const resultsPath = path.relative(path.dirname(doc), paths.page).split(path.sep).join("/");
    const updated = replaceMarkedBlock(
      text,
      "bench-headline",
      renderHeadlineSummary(report, { resultsPath }),
    );
    if (updated !== text) write(doc, updated);
  }
  return written;
}

/**
 * Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in a Markdown document, keeping
 * the markers, so that generated figures can live inside a hand-written page. Returns the text unchanged
 * when the markers are absent or out of order.
 *
 * @example
 * replaceMarkedBlock(readme, "bench-headline", headlineMarkdown(report));
 */
export function replaceMarkedBlock(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end, from + start.length);
  if (from < 0 || to < 0) return text;
  return `${text.slice(0, from + start.length)}\n${content.trim()}\n${text.slice(to)}`;
}
