import type { MachineFacts, ResultRow, SuiteResults } from "./results.js";

/** How one child process of a benchmark run ended. */
export interface ProcessOutcome {
  /** What ran, for people, e.g. `postgres suite` or `counter on nats (100 x 10,000)`. */
  readonly label: string;
  /** The command line, as a reader would type it. */
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Whether the run killed it for exceeding its time budget. */
  readonly timedOut: boolean;
  readonly durationSeconds: number;
  /** Why it could not start or what went wrong around it (missing build, unreadable summary, ...). */
  readonly error?: string;
}

/** Whether a process succeeded: exit status 0, not killed, no error around it. */
export function succeeded(outcome: ProcessOutcome): boolean {
  return outcome.exitCode === 0 && !outcome.timedOut && outcome.error === undefined;
}

/** How a process ended, for people: `ok`, `failed (exit code 2)`, `killed after exceeding its time budget`... */
export function describeOutcome(p: ProcessOutcome): string {
  if (p.error !== undefined && p.exitCode === null && p.signal === null) return `did not run: ${p.error}`;
  const how = p.timedOut
    ? `killed after exceeding its time budget${p.signal ? ` (${p.signal})` : ""}`
    : p.signal
      ? `killed by ${p.signal}`
      : p.exitCode === 0
        ? "ok"
        : `failed (exit code ${p.exitCode})`;
  return p.error === undefined ? how : `${how}; ${p.error}`;
}

/**
 * What a run found in `bench/results/<suite>.json` afterwards. Only `fresh` files are rendered: a file
 * written before the run started holds another run's figures, which the page must not pass off as this one's.
 */
export type SuiteFile =
  | { readonly status: "fresh"; readonly results: SuiteResults }
  | { readonly status: "stale"; readonly writtenAt: string }
  | { readonly status: "missing" }
  | { readonly status: "invalid"; readonly reason: string };

/** One suite of a run: the processes that fed it and the results file it left. */
export interface SuiteOutcome {
  readonly suite: string;
  /** Relative to the repository root, e.g. `bench/results/postgres.json`. */
  readonly file: string;
  readonly processes: readonly ProcessOutcome[];
  readonly results: SuiteFile;
}

/** Everything the results page is rendered from; also written as `bench/results/run.json`. */
export interface RunReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly quick: boolean;
  /** Facts gathered by the run itself, including the server versions. */
  readonly machine: MachineFacts;
  readonly suites: readonly SuiteOutcome[];
}

/** The suites of a report whose processes did not all succeed or that left no fresh results. */
export function incompleteSuites(report: RunReport): SuiteOutcome[] {
  return report.suites.filter((s) => s.processes.some((p) => !succeeded(p)) || s.results.status !== "fresh");
}

/** The rows of those `suites` whose results file is fresh: the only figures a page may show. */
export function freshRows(suites: readonly SuiteOutcome[]): ResultRow[] {
  return suites.flatMap((s) => (s.results.status === "fresh" ? s.results.results.rows : []));
}
