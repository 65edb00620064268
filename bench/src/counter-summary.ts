import type { SummaryJson } from "@eventsourced/example-counter";
import type { ResultRow } from "./results.js";

/**
 * The summary the counter example writes to `APP__OUTPUT__SUMMARY_FILE`. The type is the example's own, so
 * that a change there breaks this build instead of silently dropping a figure from the page.
 */
export type CounterSummary = SummaryJson;

const COUNTS = ["entityCount", "evtCount", "commandsPlanned", "commands"] as const;

/**
 * Parses the counter's summary JSON.
 *
 * @throws SyntaxError when the text is not JSON, TypeError when it is not a summary (an object naming its log
 *   and counts).
 */
export function parseCounterSummary(text: string): CounterSummary {
  const parsed = JSON.parse(text) as Partial<Record<keyof CounterSummary, unknown>> | null;
  if (typeof parsed?.log !== "string" || COUNTS.some((field) => typeof parsed[field] !== "number")) {
    throw new TypeError("the counter summary is not an object with log, entityCount, evtCount and commands");
  }
  return parsed as CounterSummary;
}

/** Turns one counter summary into result rows (one run, so no rounds or spread); null figures are left out. */
export function counterRows(summary: CounterSummary): ResultRow[] {
  const count = (n: number) => n.toLocaleString("en-US");
  // A stopped run's figures describe fewer commands than the scenario's name promises: say so in the name.
  const stopped = summary.interrupted || summary.commands < summary.commandsPlanned;
  const scenario =
    `counter on ${summary.log}, ${count(summary.entityCount)} x ${count(summary.evtCount)}` +
    (stopped ? ` (stopped after ${count(summary.commands)} commands)` : "");
  const figures: [string, number | boolean | null, string][] = [
    ["write phase", summary.writeSeconds, "s"],
    ["write throughput", summary.commandsPerSecond, "commands/s"],
    ["p50 latency", summary.p50Ms, "ms"],
    ["p99 latency", summary.p99Ms, "ms"],
    ["recovery", summary.recoverySeconds, "s"],
    ["replay", summary.evtsReplayedPerSecond, "events/s"],
    ["verified", summary.verified, "boolean"],
  ];
  return figures.flatMap(([metric, value, unit]) =>
    typeof value === "number" || typeof value === "boolean"
      ? [{ scenario, metric, value: Number(value), unit }]
      : [],
  );
}
