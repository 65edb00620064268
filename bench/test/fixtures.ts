import type { MachineFacts, ResultRow, SuiteResults } from "../src/results.js";

/** Machine facts as a suite writes them. */
export const MACHINE: MachineFacts = {
  measuredAt: "2026-11-23T17:50:00.000Z",
  cores: 2,
  cpuModel: "AMD EPYC 7B13",
  memoryGiB: 8,
  node: "v20.20.2",
  platform: "linux 6.1.0",
  postgres: "15.20 (Debian 15.20-0+deb12u1)",
  nats: "nats-server: v2.9.10",
};

const throughput = (series: string, entities: number, value: number, baseline?: number): ResultRow => {
  const row = { scenario: `${entities} entities, concurrent commands`, metric: "throughput", value };
  const spread = { min: value * 0.9, max: value * 1.1, rounds: 5 };
  const compared = baseline === undefined ? {} : { baseline, ratio: value / baseline };
  return { ...row, unit: "commands/s", series, entities, ...spread, ...compared };
};

const compared = (value: number, unit: string, baseline: number) => ({ value, unit, baseline, ratio: 0.83 });

/**
 * The Postgres suite: every entity count for ours and raw; the checked raw, ours fenced and Emmett only at 1
 * and 100 entities.
 */
export const POSTGRES_ROWS: readonly ResultRow[] = [
  throughput("eventsourced-postgres", 1, 1_800, 2_000),
  throughput("raw-postgres", 1, 2_000),
  throughput("eventsourced-postgres", 32, 24_000, 30_000),
  throughput("raw-postgres", 32, 30_000),
  throughput("eventsourced-postgres", 100, 40_000, 50_000),
  throughput("raw-postgres", 100, 50_000),
  throughput("eventsourced-postgres", 1000, 60_000, 70_000),
  throughput("raw-postgres", 1000, 70_000),
  throughput("raw-postgres-checked", 1, 1_900),
  throughput("raw-postgres-checked", 100, 45_000),
  throughput("eventsourced-postgres-fenced", 1, 1_500),
  throughput("eventsourced-postgres-fenced", 100, 38_000),
  throughput("emmett", 1, 900),
  throughput("emmett", 100, 2_000),
  { scenario: "100 entities, concurrent commands", metric: "p99 latency", ...compared(4.2, "ms", 3.5) },
  {
    scenario: "replay 100k events | one entity",
    metric: "replay",
    ...compared(250_000, "events/s", 300_000),
  },
];

/** The NATS suite: raw NATS lacks the 1,000-entity point; ours fenced only at 1 and 100 entities. */
export const NATS_ROWS: readonly ResultRow[] = [
  throughput("eventsourced-nats", 1, 3_000, 3_300),
  throughput("raw-nats", 1, 3_300),
  throughput("eventsourced-nats", 32, 20_000, 25_000),
  throughput("raw-nats", 32, 25_000),
  throughput("eventsourced-nats", 100, 27_000, 30_000),
  throughput("raw-nats", 100, 30_000),
  throughput("eventsourced-nats", 1000, 28_000),
  throughput("eventsourced-nats-fenced", 1, 2_600),
  throughput("eventsourced-nats-fenced", 100, 23_000),
];

export const suiteResults = (suite: string, rows: readonly ResultRow[]): SuiteResults => ({
  suite,
  machine: MACHINE,
  rows,
});
