import { describe, expect, it } from "vitest";
import { renderThroughputChart } from "../src/render-chart.js";
import type { ResultRow } from "../src/results.js";
import { THROUGHPUT_SERIES } from "../src/throughput-series.js";
import { NATS_ROWS, POSTGRES_ROWS } from "./fixtures.js";
import { allText, findAll, parseXml, type XmlNode } from "./svg.js";

const ROWS: readonly ResultRow[] = [...POSTGRES_ROWS, ...NATS_ROWS];

const chart = (rows: readonly ResultRow[]) => parseXml(renderThroughputChart(rows));
const groupsBySeries = (svg: XmlNode) =>
  new Map(findAll(svg, "g").flatMap((g) => (g["data-series"] ? [[g["data-series"] as string, g]] : [])));
const polylinesBySeries = (svg: XmlNode) =>
  new Map([...groupsBySeries(svg)].map(([series, g]) => [series, findAll(g, "polyline")]));

const pointsOf = (polyline: XmlNode) =>
  (polyline.points as string).split(" ").map((pair) => pair.split(",").map(Number) as [number, number]);

describe("renderThroughputChart", () => {
  it("renders a well-formed SVG document: title, axes, legend, one line per series", async () => {
    const svg = renderThroughputChart(ROWS);
    expect(findAll(parseXml(svg), "svg")[0]!.xmlns).toBe("http://www.w3.org/2000/svg");
    await expect(svg).toMatchFileSnapshot("golden/throughput.svg");
  });

  const lines = polylinesBySeries(chart(ROWS));
  const points = (series: string) => pointsOf(lines.get(series)![0]!);

  it("draws one line per series with one point per measured entity count", () => {
    expect([...lines.keys()].sort()).toEqual(THROUGHPUT_SERIES.map((s) => s.id).sort());
    for (const polylines of lines.values()) expect(polylines).toHaveLength(1);
    const counts = ["eventsourced-postgres", "emmett", "raw-nats"].map((series) => points(series).length);
    expect(counts).toEqual([4, 2, 3]);
  });

  it("places higher throughput higher and more entities further right", () => {
    const ours = points("eventsourced-postgres");
    const xs = ours.map(([x]) => x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    // SVG y grows downwards: 1 entity (1,800/s) sits below 1,000 entities (60,000/s).
    expect(ours[0]![1]).toBeGreaterThan(ours[3]![1]);
  });

  it("writes no NaN, Infinity or undefined into the document", () => {
    const junk = (value: number): ResultRow => ({ ...NATS_ROWS[6]!, series: "raw-nats", value });
    const svg = renderThroughputChart([...ROWS, junk(Number.NaN), junk(0), junk(Number.POSITIVE_INFINITY)]);
    expect(svg).not.toMatch(/NaN|Infinity|undefined|null/);
    expect(findAll(parseXml(svg), "svg")).toHaveLength(1);
  });

  it("marks a series without points as not measured and draws no line for it", () => {
    const svg = chart(POSTGRES_ROWS);
    const drawn = [...polylinesBySeries(svg).keys()].sort();
    expect(drawn).toEqual([
      "emmett",
      "eventsourced-postgres",
      "eventsourced-postgres-fenced",
      "raw-postgres",
      "raw-postgres-checked",
    ]);
    expect(allText(svg)).toContain("eventsourced on NATS (not measured)");
    expect(allText(svg)).not.toContain("eventsourced on PostgreSQL (not measured)");
  });

  it("renders a valid empty chart when no throughput rows exist", () => {
    const svg = renderThroughputChart([{ scenario: "replay", metric: "replay", value: 1, unit: "events/s" }]);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    const root = parseXml(svg);
    expect(findAll(root, "polyline")).toHaveLength(0);
    expect(allText(root)).toContain("No throughput figures in this run");
  });

  it("draws a single-point series as a visible marker", () => {
    const root = chart([{ ...NATS_ROWS[0]!, series: "eventsourced-nats", entities: 100 }]);
    expect(findAll(groupsBySeries(root).get("eventsourced-nats")!, "circle")).toHaveLength(1);
    expect(allText(root)).not.toContain("NaN");
  });

  it("leaves out series other than the compared systems", () => {
    const core: ResultRow = { ...NATS_ROWS[0]!, series: "eventsourced-core", value: 900_000 };
    const root = chart([...ROWS, core]);
    expect(polylinesBySeries(root).has("eventsourced-core")).toBe(false);
    expect(allText(root)).not.toContain("eventsourced-core");
  });

  it("escapes text that would break the markup", () => {
    const svg = renderThroughputChart(ROWS, { title: "<script>&\"'", subtitle: "a < b & c" });
    const root = parseXml(svg);
    expect(findAll(root, "script")).toHaveLength(0);
    expect(allText(root)).toContain(`<script>&"'`);
    expect(allText(root)).toContain("a < b & c");
  });
});
