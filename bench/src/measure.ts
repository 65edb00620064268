import type { ResultRow } from "./results.js";

/** Whether the run was asked to be quick (`--quick` or BENCH_QUICK=1). */
export const quick: boolean = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, min, max and count of the rounds' figures, as `ResultRow` fields. */
export function spread(values: readonly number[]): Pick<ResultRow, "value" | "min" | "max" | "rounds"> {
  return { value: median(values), min: Math.min(...values), max: Math.max(...values), rounds: values.length };
}

/**
 * Runs every system once per round for `rounds` rounds, rotating which goes first each round so that drift
 * in the machine's load hits all of them alike.
 */
export async function rotateRounds<S extends string, T>(
  rounds: number,
  systems: Partial<Record<S, () => Promise<T>>>,
): Promise<Map<S, T[]>> {
  const entries = Object.entries(systems) as [S, () => Promise<T>][];
  const results = new Map<S, T[]>(entries.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < entries.length; i++) {
      const [name, run] = entries[(round + i) % entries.length]!;
      results.get(name)!.push(await run());
    }
  }
  return results;
}

/** Units of time: lower is better, so their ratio is baseline / value. */
const TIME_UNITS = new Set(["s", "ms", "µs"]);

/**
 * A row of one figure per round (median and spread), compared with a baseline's figures from the same
 * rounds when given. The ratio is "higher is better for ours": value / baseline, or baseline / value for
 * units of time.
 */
export function comparisonRow<T>(
  fields: Pick<ResultRow, "scenario" | "metric" | "unit"> & Partial<Pick<ResultRow, "series" | "entities">>,
  figure: (measured: T) => number,
  ours: readonly T[],
  baseline?: readonly T[],
): ResultRow {
  const row = { ...fields, ...spread(ours.map(figure)) };
  if (baseline === undefined) return row;
  const base = median(baseline.map(figure));
  return { ...row, baseline: base, ratio: TIME_UNITS.has(fields.unit) ? base / row.value : row.value / base };
}
