import { formatCompact, formatFigure } from "./format-figure.js";
import type { ResultRow } from "./results.js";
import { ENTITY_COUNTS, type SeriesStyle, THROUGHPUT_SERIES, throughputSeries } from "./throughput-series.js";

const WIDTH = 860;
const HEIGHT = 440;
const PLOT = { left: 84, right: 540, top: 56, bottom: 370 } as const;
const LEGEND_X = 564;

/** Options for {@link renderThroughputChart}. */
export interface ThroughputChartOptions {
  readonly title?: string;
  /** A line under the title, e.g. where and when the figures were measured. */
  readonly subtitle?: string;
}

/**
 * Renders the throughput chart (commands/s against number of entities, both on log scales) as a standalone
 * SVG document, one line per series.
 *
 * The five series of {@link THROUGHPUT_SERIES} always appear in the legend, marked "not measured" when the
 * rows hold no point for them, so that a missing suite is visible rather than silently absent. Rows of
 * other series are left out.
 *
 * @example
 * writeFileSync("bench/results/throughput.svg", renderThroughputChart(rows));
 */
export function renderThroughputChart(
  rows: readonly ResultRow[],
  options: ThroughputChartOptions = {},
): string {
  // Only the compared systems: other throughput series (e.g. the core suite's in-memory runs) involve no
  // storage, and their far higher figures would stretch the scale until the compared lines bunch together.
  const styles = THROUGHPUT_SERIES;
  const known = new Set(styles.map((s) => s.id));
  const data = new Map([...throughputSeries(rows)].filter(([id]) => known.has(id)));
  const values = [...data.values()].flatMap((points) => points.map((p) => p.value));
  const entityCounts = [
    ...new Set([...ENTITY_COUNTS, ...[...data.values()].flatMap((ps) => ps.map((p) => p.entities))]),
  ]
    .filter((n) => n > 0)
    .sort((a, b) => a - b);

  const x = logScale(
    entityCounts[0]!,
    entityCounts[entityCounts.length - 1]!,
    PLOT.left + 16,
    PLOT.right - 16,
  );
  const [yMin, yMax] = yDomain(values);
  const y = logScale(yMin, yMax, PLOT.bottom, PLOT.top);

  const title = options.title ?? "Throughput: commands/s against number of entities";
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    `<desc id="chart-desc">${escapeXml(describe(styles, data))}</desc>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600" fill="#222222">${escapeXml(title)}</text>`,
  ];
  if (options.subtitle) {
    parts.push(
      `<text x="${WIDTH / 2}" y="42" text-anchor="middle" font-size="11" fill="#555555">${escapeXml(options.subtitle)}</text>`,
    );
  }

  parts.push('<g class="grid" stroke="#e3e3e3" stroke-width="1">');
  const yTicks = logTicks(yMin, yMax);
  for (const tick of yTicks)
    parts.push(`<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${num(y(tick))}" y2="${num(y(tick))}"/>`);
  for (const count of entityCounts) {
    parts.push(`<line x1="${num(x(count))}" x2="${num(x(count))}" y1="${PLOT.top}" y2="${PLOT.bottom}"/>`);
  }
  parts.push("</g>");
  parts.push(
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#999999"/>`,
  );

  parts.push('<g class="y-axis" fill="#444444" text-anchor="end">');
  for (const tick of yTicks)
    parts.push(`<text x="${PLOT.left - 6}" y="${num(y(tick) + 4)}">${escapeXml(formatCompact(tick))}</text>`);
  parts.push("</g>");
  parts.push('<g class="x-axis" fill="#444444" text-anchor="middle">');
  for (const count of entityCounts) {
    parts.push(
      `<text x="${num(x(count))}" y="${PLOT.bottom + 18}">${escapeXml(count.toLocaleString("en-US"))}</text>`,
    );
  }
  parts.push("</g>");
  parts.push(
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 44}" text-anchor="middle" fill="#222222">Number of entities (log scale)</text>`,
    `<text transform="translate(22 ${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#222222">Commands per second (log scale)</text>`,
  );

  if (values.length === 0) {
    parts.push(
      `<text x="${(PLOT.left + PLOT.right) / 2}" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle" fill="#777777">No throughput figures in this run</text>`,
    );
  }

  for (const style of styles) {
    const points = data.get(style.id);
    if (!points || points.length === 0) continue;
    const coords = points.map((p) => `${num(x(p.entities))},${num(y(p.value))}`).join(" ");
    const dash = style.dashed ? ' stroke-dasharray="6 4"' : "";
    parts.push(`<g class="series" data-series="${escapeXml(style.id)}">`);
    parts.push(
      `<polyline points="${coords}" fill="none" stroke="${style.color}" stroke-width="2.5"${dash} stroke-linejoin="round"/>`,
    );
    for (const p of points) {
      const fill = style.dashed ? "#ffffff" : style.color;
      parts.push(
        `<circle cx="${num(x(p.entities))}" cy="${num(y(p.value))}" r="4" fill="${fill}" stroke="${style.color}" stroke-width="2"><title>${escapeXml(`${style.label}, ${p.entities.toLocaleString("en-US")} entities: ${formatFigure(p.value)} commands/s`)}</title></circle>`,
      );
    }
    parts.push("</g>");
  }

  parts.push('<g class="legend">');
  styles.forEach((style, index) => {
    const top = PLOT.top + 8 + index * 26;
    const measured = (data.get(style.id)?.length ?? 0) > 0;
    const dash = style.dashed ? ' stroke-dasharray="6 4"' : "";
    const opacity = measured ? "" : ' opacity="0.4"';
    parts.push(
      `<line x1="${LEGEND_X}" x2="${LEGEND_X + 28}" y1="${top}" y2="${top}" stroke="${style.color}" stroke-width="2.5"${dash}${opacity}/>`,
      `<text x="${LEGEND_X + 36}" y="${top + 4}" fill="${measured ? "#222222" : "#888888"}">${escapeXml(style.label)}${measured ? "" : " (not measured)"}</text>`,
    );
  });
  parts.push("</g>");
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function describe(
  styles: readonly SeriesStyle[],
  data: ReadonlyMap<string, readonly { entities: number; value: number }[]>,
): string {
  const lines = styles
    .filter((s) => (data.get(s.id)?.length ?? 0) > 0)
    .map(
      (s) =>
        `${s.label}: ${data
          .get(s.id)!
          .map((p) => `${p.entities} entities ${formatFigure(p.value)}/s`)
          .join(", ")}`,
    );
  return lines.length ? lines.join("; ") : "No throughput figures in this run.";
}

/** Whole decades around the data, so that the log axis labels read 1k, 10k, 100k. */
function yDomain(values: readonly number[]): [number, number] {
  if (values.length === 0) return [1e3, 1e6];
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  let hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  if (hi <= lo) hi = lo * 10;
  return [lo, hi];
}

/** Decade ticks, plus 2× and 5× ticks when the range is too narrow for decades alone to be useful. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  const decades = Math.round(Math.log10(max / min));
  for (let exp = Math.round(Math.log10(min)); exp <= Math.round(Math.log10(max)); exp++) {
    const decade = 10 ** exp;
    ticks.push(decade);
    if (decades <= 2 && decade < max) ticks.push(decade * 2, decade * 5);
  }
  return ticks.filter((t) => t >= min && t <= max);
}

function logScale(
  domainMin: number,
  domainMax: number,
  rangeFrom: number,
  rangeTo: number,
): (v: number) => number {
  const lo = Math.log10(domainMin);
  const span = Math.log10(domainMax) - lo;
  if (span <= 0) return () => (rangeFrom + rangeTo) / 2;
  return (v) => rangeFrom + ((Math.log10(v) - lo) / span) * (rangeTo - rangeFrom);
}

/** One decimal is finer than a pixel and keeps the file small and diffable. */
function num(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** Scenario and series names come from JSON files written by other processes: the chart never trusts them. */
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&${XML_ENTITIES[char]};`);
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "amp",
  "<": "lt",
  ">": "gt",
  '"': "quot",
  "'": "apos",
};
