/** A suite that `npm run bench` runs: `bench/dist/<name>.bench.js`, which writes `bench/results/<name>.json`. */
export interface SuiteEntry {
  readonly name: string;
  /** Time budgets of its process, in seconds: safety nets that stop a hung suite from holding up the rest. */
  readonly budgetSeconds: { readonly quick: number; readonly full: number };
  /** Flags for node before the script (e.g. `--expose-gc` for a suite that measures heap). */
  readonly nodeFlags?: readonly string[] | undefined;
}

/**
 * The suites of a run, in running order, which is also their order on the results page. Each sizes its own
 * workload to fit the run's overall bound (about 10 minutes full, about 1 minute quick). Adding a suite is
 * one line here; its results get a section on the page without further changes.
 */
export const SUITES: readonly SuiteEntry[] = [
  { name: "core", budgetSeconds: { quick: 60, full: 180 } },
  { name: "postgres", budgetSeconds: { quick: 120, full: 360 } },
  { name: "nats", budgetSeconds: { quick: 120, full: 360 } },
  { name: "postgres-scale", budgetSeconds: { quick: 180, full: 480 } },
  { name: "registry", budgetSeconds: { quick: 120, full: 300 }, nodeFlags: ["--expose-gc"] },
  { name: "lifecycle", budgetSeconds: { quick: 180, full: 480 } },
  { name: "projections", budgetSeconds: { quick: 120, full: 420 } },
  { name: "cluster", budgetSeconds: { quick: 120, full: 300 } },
  { name: "opentelemetry", budgetSeconds: { quick: 60, full: 180 } },
];

/** The counter example's workload after the suites, once per log: full size, or reduced in quick mode. */
export const COUNTER_WORKLOAD = {
  full: { entityCount: 100, evtCount: 10_000, budgetSeconds: 300 },
  quick: { entityCount: 20, evtCount: 500, budgetSeconds: 90 },
} as const;
