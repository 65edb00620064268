import type { Measured } from "./closed-loop.js";
import { comparisonRow, rotateRounds } from "./measure.js";
import type { ResultRow } from "./results.js";
import { ENTITY_COUNTS } from "./throughput-series.js";

/** One system of an adapter suite's write scenarios. */
export interface WriteSystem {
  /** The `series` of its throughput rows, e.g. `raw-postgres`. */
  readonly series: string;
  /** Drives `entities` closed loops, in a schema or stream of its own. */
  readonly run: (entities: number) => Promise<Measured>;
}

/** The write scenarios of an event log's suite (PostgreSQL, NATS). */
export interface WriteScenarios {
  readonly rounds: number;
  readonly ours: WriteSystem;
  /** The raw-driver baseline that `ratio` compares with. */
  readonly raw: WriteSystem;
  /** Further systems by name, each compared with ours in a `throughput vs <name>` row. */
  readonly others?: Readonly<Record<string, WriteSystem>>;
  /** The latency percentiles reported (ours against raw) at some entity counts. */
  readonly latencies: Readonly<Record<number, readonly ("p50" | "p99")[]>>;
}

/**
 * Runs the write scenarios, every system once per round at each of {@link ENTITY_COUNTS}, and returns their rows:
 * throughput of each system (ours with the raw baseline and ratio), then the comparisons and latencies.
 */
export async function writeScenarios(suite: WriteScenarios): Promise<ResultRow[]> {
  const systems: Record<string, WriteSystem> = { ours: suite.ours, raw: suite.raw, ...suite.others };
  const rows: ResultRow[] = [];
  for (const entities of ENTITY_COUNTS) {
    const scenario = entities === 1 ? "1 entity" : `${entities} entities`;
    const runs = Object.fromEntries(
      Object.entries(systems).map(([name, s]) => [name, () => s.run(entities)]),
    );
    const results = await rotateRounds(suite.rounds, runs);
    const perSecond = (m: Measured) => m.perSecond;
    const throughput = (name: string) => ({
      scenario,
      metric: "throughput",
      unit: "commands/s",
      series: systems[name]!.series,
      entities,
    });
    const ours = comparisonRow(throughput("ours"), perSecond, results.get("ours")!, results.get("raw"));
    rows.push(ours, comparisonRow(throughput("raw"), perSecond, results.get("raw")!));
    for (const name of Object.keys(suite.others ?? {})) {
      const other = comparisonRow(throughput(name), perSecond, results.get(name)!);
      const vs = { scenario, metric: `throughput vs ${name}`, value: ours.value, unit: ours.unit };
      rows.push(other, { ...vs, baseline: other.value, ratio: ours.value / other.value });
    }
    for (const p of suite.latencies[entities] ?? []) {
      const fields = { scenario, metric: `${p} command latency`, unit: "ms" };
      rows.push(comparisonRow(fields, (m) => m[`${p}Ms`], results.get("ours")!, results.get("raw")));
    }
    console.log(`${scenario} done`);
  }
  return rows;
}

/**
 * Runs a replay scenario (events per second of recovering one entity, ours against a raw read) after one
 * unrecorded run of each, which warms the caches and the JIT for whichever goes first.
 */
export async function replayScenario(
  scenario: string,
  rounds: number,
  systems: { readonly ours: () => Promise<number>; readonly raw: () => Promise<number> },
): Promise<ResultRow[]> {
  await systems.raw();
  await systems.ours();
  const results = await rotateRounds(rounds, systems);
  const fields = { scenario, metric: "throughput", unit: "events/s" };
  const perSecond = (value: number) => value;
  console.log("replay done");
  const [ours, raw] = [results.get("ours")!, results.get("raw")!];
  return [comparisonRow(fields, perSecond, ours, raw), comparisonRow(fields, perSecond, raw)];
}

/** Runs `body` on the log (or other closable) that `opening` resolves to, and closes it afterwards. */
export async function withClosed<C extends { close(): Promise<void> }, T>(
  opening: Promise<C>,
  body: (closable: C) => Promise<T>,
): Promise<T> {
  const closable = await opening;
  try {
    return await body(closable);
  } finally {
    await closable.close();
  }
}
