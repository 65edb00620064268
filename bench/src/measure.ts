/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The q-quantile (0..1) of a list, nearest-rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface Interleaved {
  readonly ours: number[];
  readonly baseline: number[];
}

/**
 * Runs `ours` and `baseline` alternately for `rounds` rounds (alternating which goes first) so that drift
 * in the machine's load affects both alike. Each function returns its figure for the round (e.g. ops/s).
 */
export async function interleave(
  rounds: number,
  ours: () => Promise<number>,
  baseline: () => Promise<number>,
): Promise<Interleaved> {
  const result: Interleaved = { ours: [], baseline: [] };
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      result.ours.push(await ours());
      result.baseline.push(await baseline());
    } else {
      result.baseline.push(await baseline());
      result.ours.push(await ours());
    }
  }
  return result;
}

/** Whether the run was asked to be quick (`--quick` or BENCH_QUICK=1). */
export const quick: boolean = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";

/** One system's figure in one round: throughput, plus per-command latencies (ms) where measured. */
export interface Measured {
  readonly perSecond: number;
  readonly latenciesMs?: number[];
}

/**
 * Runs every system once per round for `rounds` rounds, rotating which goes first each round so machine
 * drift hits all of them alike (the n-system form of {@link interleave}).
 */
export async function rotateRounds<S extends string>(
  rounds: number,
  systems: Partial<Record<S, () => Promise<Measured>>>,
): Promise<Map<S, Measured[]>> {
  const entries = Object.entries(systems) as [S, () => Promise<Measured>][];
  const results = new Map<S, Measured[]>(entries.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < entries.length; i++) {
      const [name, run] = entries[(round + i) % entries.length]!;
      results.get(name)!.push(await run());
    }
  }
  return results;
}

/** Median, min, max and count of a round's figures, as `ResultRow` fields. */
export function spread(values: readonly number[]): {
  value: number;
  min: number;
  max: number;
  rounds: number;
} {
  return { value: median(values), min: Math.min(...values), max: Math.max(...values), rounds: values.length };
}
