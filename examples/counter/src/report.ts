import type { RunSummary } from "./run.js";

/** The JSON summary written to `output.summaryFile` (read by the benchmark runner). */
export interface SummaryJson {
  /** Which event log: `postgres`, `pglite` (embedded) or `nats`. */
  readonly log: string;
  readonly entityCount: number;
  readonly evtCount: number;
  readonly commandsPlanned: number;
  /** Commands acknowledged. */
  readonly commands: number;
  readonly rejected: number;
  readonly writeSeconds: number;
  readonly commandsPerSecond: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly recoverySeconds: number | null;
  readonly evtsReplayed: number | null;
  readonly evtsReplayedPerSecond: number | null;
  readonly verified: boolean | null;
  /** Whether the `counter_totals` read model agrees with the counters (null: no projection, or not checked). */
  readonly projectionVerified: boolean | null;
  readonly interrupted: boolean;
  /** The sum of all counters' values before the run (as a decimal string: it is a sum of u64s). */
  readonly startTotal: string;
  readonly error: string | null;
  /** The cap on resident counters (`counter.maxActive`). */
  readonly maxActive: number | null;
  /** Counters passivated to stay within it, over the whole run. */
  readonly passivations: number;
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** The summary as plain JSON data; durations in seconds and milliseconds rounded to microseconds. */
export function summaryJson(
  log: string,
  summary: RunSummary,
  projectionVerified?: boolean | undefined,
): SummaryJson {
  const maybe = (value: number | undefined, digits: number) =>
    value === undefined ? null : round(value, digits);
  return {
    log,
    entityCount: summary.entityCount,
    evtCount: summary.evtCount,
    commandsPlanned: summary.commandsPlanned,
    commands: summary.commands,
    rejected: summary.rejected,
    writeSeconds: round(summary.writeSeconds, 6),
    commandsPerSecond: round(summary.commandsPerSecond, 1),
    p50Ms: maybe(summary.p50Ms, 3),
    p99Ms: maybe(summary.p99Ms, 3),
    recoverySeconds: maybe(summary.recoverySeconds, 6),
    evtsReplayed: summary.evtsReplayed ?? null,
    evtsReplayedPerSecond: maybe(summary.evtsReplayedPerSecond, 1),
    verified: summary.verified ?? null,
    projectionVerified: projectionVerified ?? null,
    interrupted: summary.interrupted,
    startTotal: summary.startTotal.toString(),
    error: summary.error?.message ?? null,
    maxActive: summary.maxActive ?? null,
    passivations: summary.passivations,
  };
}

function ms(value: number | undefined): string {
  if (value === undefined) return "n/a";
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toPrecision(2)} ms`;
}

function secs(value: number): string {
  return value >= 10 ? `${value.toFixed(1)} s` : `${value.toFixed(2)} s`;
}

function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/**
 * The human report of a run, one line per phase. The first words of each line are stable (`write phase:`,
 * `recovery:`, `verified:`, `NOT verified:`, `interrupted:`) so that scripts and tests can find them.
 */
export function reportLines(summary: RunSummary): string[] {
  const lines: string[] = [];
  if (summary.interrupted) {
    lines.push(
      `interrupted: ${count(summary.commands)} of ${count(summary.commandsPlanned)} commands were sent and acknowledged before the stop`,
    );
  }
  if (summary.error !== undefined) {
    lines.push(
      `failed: the write phase ended after ${count(summary.commands)} of ${count(summary.commandsPlanned)} commands: ${summary.error.message}`,
    );
  }
  const rejected = summary.rejected > 0 ? ` (${count(summary.rejected)} rejected)` : "";
  lines.push(
    `write phase: ${count(summary.commands)} commands${rejected} in ${secs(summary.writeSeconds)}: ` +
      `${count(summary.commandsPerSecond)} commands/s, latency p50 ${ms(summary.p50Ms)}, p99 ${ms(summary.p99Ms)}`,
  );
  if (summary.recoverySeconds !== undefined && summary.evtsReplayed !== undefined) {
    lines.push(
      `recovery: ${count(summary.entityCount)} counters in ${secs(summary.recoverySeconds)}, ` +
        `${count(summary.evtsReplayed)} events replayed (${count(summary.evtsReplayedPerSecond ?? 0)} events/s)`,
    );
  }
  const cap =
    summary.maxActive === undefined
      ? "no cap on resident counters"
      : `at most ${count(summary.maxActive)} counters resident at once`;
  lines.push(`passivations: ${count(summary.passivations)} (${cap})`);
  if (summary.verified === true) {
    lines.push(
      `verified: all ${count(summary.entityCount)} recovered values equal the expected values (start + this run's changes)`,
    );
  } else if (summary.verified === false) {
    const shown = summary.mismatches
      .slice(0, 5)
      .map((m) => `${m.id} recovered ${m.actual} but expected ${m.expected}`)
      .join("; ");
    lines.push(`NOT verified: ${summary.mismatches.length} counters differ: ${shown}`);
  } else if (summary.leaseLost) {
    lines.push(
      "not verified: the run's lease on the store ended, so the counters may be another run's by now",
    );
  } else {
    lines.push("not verified: recovery was skipped");
  }
  return lines;
}
