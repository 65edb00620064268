import type { ResultRow } from "./results.js";

/**
 * The series the throughput chart always shows, in legend order; `id` is the `series` value on result rows.
 * Colours are from the Okabe–Ito palette, which stays distinguishable for colour-blind readers; raw-driver
 * baselines are dashed so that each of ours reads against its baseline in the same hue.
 */
export const THROUGHPUT_SERIES = [
  { id: "eventsourced-postgres", label: "eventsourced on PostgreSQL", color: "#0072B2", dashed: false },
  { id: "raw-postgres", label: "raw PostgreSQL group commit", color: "#0072B2", dashed: true },
  {
    id: "raw-postgres-checked",
    label: "raw PostgreSQL with conflict check",
    color: "#56B4E9",
    dashed: true,
  },
  {
    id: "eventsourced-postgres-fenced",
    label: "eventsourced on PostgreSQL, fenced",
    color: "#CC79A7",
    dashed: false,
  },
  { id: "emmett", label: "Emmett on PostgreSQL", color: "#E69F00", dashed: false },
  { id: "eventsourced-nats", label: "eventsourced on NATS", color: "#009E73", dashed: false },
  { id: "raw-nats", label: "raw NATS JetStream", color: "#009E73", dashed: true },
  { id: "eventsourced-nats-fenced", label: "eventsourced on NATS, fenced", color: "#D55E00", dashed: false },
] as const;

/** Entity counts the suites measure; the chart's x axis always shows them. */
export const ENTITY_COUNTS: readonly number[] = [1, 32, 100, 1000];

/** One measured point of a throughput series. */
export type ThroughputPoint = { readonly entities: number; readonly value: number };

/**
 * Picks the throughput rows (`metric: "throughput"` with a `series` and `entities`) and groups them by series,
 * each sorted by entity count. Points that cannot be drawn on a log scale (non-finite or <= 0) are dropped;
 * when a suite reports the same series and entity count twice, the first row wins.
 */
export function throughputSeries(rows: readonly ResultRow[]): Map<string, ThroughputPoint[]> {
  const drawable = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n > 0;
  const bySeries = new Map<string, ThroughputPoint[]>();
  for (const row of rows) {
    if (row.metric !== "throughput" || typeof row.series !== "string") continue;
    if (!drawable(row.value) || !drawable(row.entities)) continue;
    const points = bySeries.get(row.series) ?? [];
    if (points.some((p) => p.entities === row.entities)) continue;
    points.push({ entities: row.entities, value: row.value });
    bySeries.set(row.series, points);
  }
  for (const points of bySeries.values()) points.sort((a, b) => a.entities - b.entities);
  return bySeries;
}

/** {@link ENTITY_COUNTS} and every other count that `series` have points at, in ascending order. */
export function entityCounts(series: Iterable<readonly ThroughputPoint[]>): number[] {
  const measured = [...series].flat().map((p) => p.entities);
  return [...new Set([...ENTITY_COUNTS, ...measured])].sort((a, b) => a - b);
}
