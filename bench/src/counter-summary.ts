import type { ResultRow } from "./results.js";

/**
 * The summary the counter example writes to `APP__OUTPUT__SUMMARY_FILE`. Every field is optional here:
 * the run reports whatever the example provides rather than failing on a field it does not know yet.
 */
export interface CounterSummary {
  readonly log?: string;
  readonly entityCount?: number;
  readonly evtCount?: number;
  /** Commands the run meant to send (entityCount x evtCount). */
  readonly commandsPlanned?: number;
  /** Commands acknowledged. */
  readonly commands?: number;
  readonly writeSeconds?: number;
  readonly commandsPerSecond?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly recoverySeconds?: number;
  readonly evtsReplayed?: number;
  readonly evtsReplayedPerSecond?: number;
  readonly verified?: boolean;
  /** Set when the write phase was stopped early (Ctrl-C). */
  readonly interrupted?: boolean;
  /** Why the write phase failed, when it did. */
  readonly error?: string;
}

const NUMERIC_FIELDS = [
  "entityCount",
  "evtCount",
  "commandsPlanned",
  "commands",
  "writeSeconds",
  "commandsPerSecond",
  "p50Ms",
  "p99Ms",
  "recoverySeconds",
  "evtsReplayed",
  "evtsReplayedPerSecond",
] as const;

/**
 * Parses the counter's summary JSON, keeping the fields that have the expected type and dropping the rest
 * (numbers may also arrive as numeric strings, e.g. when the example serialises bigint counts).
 *
 * @throws SyntaxError when the text is not JSON, TypeError when it is not an object.
 */
export function parseCounterSummary(text: string): CounterSummary {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TypeError("the counter summary is not a JSON object");
  }
  const source = parsed as Record<string, unknown>;
  const summary: Record<string, unknown> = {};
  if (typeof source.log === "string") summary.log = source.log;
  if (typeof source.verified === "boolean") summary.verified = source.verified;
  if (typeof source.interrupted === "boolean") summary.interrupted = source.interrupted;
  if (typeof source.error === "string" && source.error !== "") summary.error = source.error;
  for (const field of NUMERIC_FIELDS) {
    const raw = source[field];
    const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
    if (typeof value === "number" && Number.isFinite(value)) summary[field] = value;
  }
  return summary as CounterSummary;
}

/** The scenario name of one counter run, e.g. `counter on postgres, 100 x 10,000`. */
export function counterScenario(log: string, entityCount: number, evtCount: number): string {
  return `counter on ${log}, ${entityCount.toLocaleString("en-US")} x ${evtCount.toLocaleString("en-US")}`;
}

/**
 * Turns one counter summary into result rows (single run, so no rounds or spread). `requested` names the
 * workload the run asked for, used when the summary does not echo it.
 */
export function counterRows(
  summary: CounterSummary,
  requested: { log: string; entityCount: number; evtCount: number },
): ResultRow[] {
  const base = counterScenario(
    summary.log ?? requested.log,
    summary.entityCount ?? requested.entityCount,
    summary.evtCount ?? requested.evtCount,
  );
  // A stopped run's figures describe fewer commands than the scenario's name promises: say so in the name.
  const planned = summary.commandsPlanned ?? requested.entityCount * requested.evtCount;
  const incomplete =
    summary.interrupted === true || (summary.commands !== undefined && summary.commands < planned);
  const scenario = incomplete
    ? `${base} (stopped after ${summary.commands === undefined ? "an unknown number of" : summary.commands.toLocaleString("en-US")} commands)`
    : base;
  const rows: ResultRow[] = [];
  const add = (metric: string, value: number | undefined, unit: string) => {
    if (value !== undefined) rows.push({ scenario, metric, value, unit });
  };
  add("write phase", summary.writeSeconds, "s");
  add("write throughput", summary.commandsPerSecond, "commands/s");
  add("p50 latency", summary.p50Ms, "ms");
  add("p99 latency", summary.p99Ms, "ms");
  add("recovery", summary.recoverySeconds, "s");
  add("replay", summary.evtsReplayedPerSecond, "events/s");
  add("verified", summary.verified === undefined ? undefined : summary.verified ? 1 : 0, "boolean");
  return rows;
}
