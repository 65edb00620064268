import { formatFigure } from "./format-figure.js";
import type { ResultRow } from "./results.js";
import { entityCounts, THROUGHPUT_SERIES, throughputSeries } from "./throughput-series.js";

const WIDTH = 860;
const HEIGHT = 440;
const PLOT = { left: 84, right: 540, top: 56, bottom: 370 } as const;
const LEGEND_X = 564;
const COMPACT = new Intl.NumberFormat("en-US", { notation: "compact" });
/** Axis labels such as `10k`, `2.5M` (a lower-case k, as SI writes it). */
const compact = (n: number) => COMPACT.format(n).replace("K", "k");

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
 */
export function renderThroughputChart(
  rows: readonly ResultRow[],
  options: ThroughputChartOptions = {},
): string {
  // Only the compared systems: other throughput series (e.g. the core suite's in-memory runs) involve no
  // storage, and their far higher figures would stretch the scale until the compared lines bunch together.
  const data = throughputSeries(rows);
  const series = THROUGHPUT_SERIES.map((style) => ({ ...style, points: data.get(style.id) ?? [] }));
  const measured = series.filter((s) => s.points.length > 0);
  const values = measured.flatMap((s) => s.points.map((p) => p.value));
  const counts = entityCounts(measured.map((s) => s.points));
  const x = logScale(counts[0]!, counts.at(-1)!, PLOT.left + 16, PLOT.right - 16);
  const [yMin, yMax] = yDomain(values);
  const y = logScale(yMin, yMax, PLOT.bottom, PLOT.top);
  const yTicks = logTicks(yMin, yMax);
  const middle = { x: (PLOT.left + PLOT.right) / 2, y: (PLOT.top + PLOT.bottom) / 2 };
  const dash = (s: { dashed: boolean }) => (s.dashed ? ' stroke-dasharray="6 4"' : "");
  const title = options.title ?? "Throughput: commands/s against number of entities";
  const pointsText = (ps: readonly { entities: number; value: number }[]) =>
    ps.map((p) => `${p.entities} entities ${formatFigure(p.value)}/s`).join(", ");
  const description = measured.map((s) => `${s.label}: ${pointsText(s.points)}`).join("; ");
  const text = (attributes: string, content: string) => `<text ${attributes}>${escapeXml(content)}</text>`;
  // Absent parts (no subtitle, figures present) are left out below.
  const parts: (string | false | undefined)[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    `<desc id="chart-desc">${escapeXml(description || "No throughput figures in this run.")}</desc>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600" fill="#222222">${escapeXml(title)}</text>`,
    options.subtitle &&
      text(`x="${WIDTH / 2}" y="42" text-anchor="middle" font-size="11" fill="#555555"`, options.subtitle),
    '<g class="grid" stroke="#e3e3e3" stroke-width="1">',
    ...yTicks.map((t) => `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${num(y(t))}" y2="${num(y(t))}"/>`),
    ...counts.map((n) => `<line x1="${num(x(n))}" x2="${num(x(n))}" y1="${PLOT.top}" y2="${PLOT.bottom}"/>`),
    "</g>",
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#999999"/>`,
    '<g class="y-axis" fill="#444444" text-anchor="end">',
    ...yTicks.map((t) => text(`x="${PLOT.left - 6}" y="${num(y(t) + 4)}"`, compact(t))),
    "</g>",
    '<g class="x-axis" fill="#444444" text-anchor="middle">',
    ...counts.map((n) => text(`x="${num(x(n))}" y="${PLOT.bottom + 18}"`, n.toLocaleString("en-US"))),
    "</g>",
    `<text x="${middle.x}" y="${PLOT.bottom + 44}" text-anchor="middle" fill="#222222">Number of entities (log scale)</text>`,
    `<text transform="translate(22 ${middle.y}) rotate(-90)" text-anchor="middle" fill="#222222">Commands per second (log scale)</text>`,
    values.length === 0 &&
      `<text x="${middle.x}" y="${middle.y}" text-anchor="middle" fill="#777777">No throughput figures in this run</text>`,
    ...measured.flatMap((s) => [
      `<g class="series" data-series="${escapeXml(s.id)}">`,
      `<polyline points="${s.points.map((p) => `${num(x(p.entities))},${num(y(p.value))}`).join(" ")}" fill="none" stroke="${s.color}" stroke-width="2.5"${dash(s)} stroke-linejoin="round"/>`,
      ...s.points.map(
        (p) =>
          `<circle cx="${num(x(p.entities))}" cy="${num(y(p.value))}" r="4" fill="${s.dashed ? "#ffffff" : s.color}" stroke="${s.color}" stroke-width="2"><title>${escapeXml(`${s.label}, ${p.entities.toLocaleString("en-US")} entities: ${formatFigure(p.value)} commands/s`)}</title></circle>`,
      ),
      "</g>",
    ]),
    '<g class="legend">',
    ...series.flatMap((s, index) => {
      const top = PLOT.top + 8 + index * 26;
      const shown = s.points.length > 0;
      return [
        `<line x1="${LEGEND_X}" x2="${LEGEND_X + 28}" y1="${top}" y2="${top}" stroke="${s.color}" stroke-width="2.5"${dash(s)}${shown ? "" : ' opacity="0.4"'}/>`,
        `<text x="${LEGEND_X + 36}" y="${top + 4}" fill="${shown ? "#222222" : "#888888"}">${escapeXml(s.label)}${shown ? "" : " (not measured)"}</text>`,
      ];
    }),
    "</g>",
    "</svg>",
  ];
  return `${parts.filter((part) => part).join("\n")}\n`;
}

/** Whole decades around the data, so that the log axis labels read 1k, 10k, 100k. */
function yDomain(values: readonly number[]): [number, number] {
  if (values.length === 0) return [1e3, 1e6];
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  return [lo, hi <= lo ? lo * 10 : hi];
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

function logScale(min: number, max: number, from: number, to: number): (v: number) => number {
  const lo = Math.log10(min);
  const span = Math.log10(max) - lo;
  return span <= 0 ? () => (from + to) / 2 : (v) => from + ((Math.log10(v) - lo) / span) * (to - from);
}

/** One decimal is finer than a pixel and keeps the file small and diffable. */
function num(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** Scenario and series names come from JSON files written by other processes: the chart never trusts them. */
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&${ENTITIES[char]};`);
}

const ENTITIES: Record<string, string> = { "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" };
