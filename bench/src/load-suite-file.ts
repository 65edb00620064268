import { readFileSync } from "node:fs";
import type { SuiteResults } from "./results.js";
import type { SuiteFile } from "./run-report.js";

/**
 * Reads a suite's results file and decides whether the run's process wrote it: its `machine.measuredAt` (when
 * the suite gathered its facts) must fall after `startedAt`, when the process started, and before
 * `writtenBefore`, when it ended: on a shared machine another run of the same suite may have overwritten it.
 * A file whose rows do not have the shape of a `ResultRow` is invalid rather than guessed at.
 */
export function loadSuiteFile(path: string, startedAt: Date, writtenBefore: Date): SuiteFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { status: "missing" };
    return { status: "invalid", reason: `unreadable: ${(error as Error).message}` };
  }
  const shapeError = suiteResultsShapeError(parsed);
  if (shapeError) return { status: "invalid", reason: shapeError };
  const results = parsed as SuiteResults;
  const measuredAt = Date.parse(results.machine.measuredAt);
  if (Number.isNaN(measuredAt)) return { status: "invalid", reason: "no `machine.measuredAt` time" };
  if (measuredAt < startedAt.getTime()) return { status: "stale", writtenAt: results.machine.measuredAt };
  const late = `measured at ${results.machine.measuredAt}, after the suite's process ended`;
  if (measuredAt > writtenBefore.getTime()) return { status: "invalid", reason: late };
  return { status: "fresh", results };
}

/** Why a parsed value is not a {@link SuiteResults}, or undefined when it is one. */
export function suiteResultsShapeError(value: unknown): string | undefined {
  const record = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!record(value)) return "not an object";
  if (typeof value.suite !== "string") return "no `suite` name";
  if (!record(value.machine)) return "no `machine` facts";
  if (!Array.isArray(value.rows)) return "no `rows` array";
  const textual = ["scenario", "metric", "unit"];
  const isRow = (row: unknown) =>
    record(row) && typeof row.value === "number" && textual.every((key) => typeof row[key] === "string");
  const bad = value.rows.findIndex((row) => !isRow(row));
  return bad >= 0 ? `row ${bad} lacks scenario, metric, numeric value or unit` : undefined;
}
