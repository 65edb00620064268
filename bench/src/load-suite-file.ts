import { readFileSync, statSync } from "node:fs";
import type { ResultRow, SuiteResults } from "./results.js";
import type { SuiteFile } from "./run-report.js";

/**
 * Reads a suite's results file and decides whether it was written by the run that started at `runStartedAt`.
 *
 * Freshness is judged by the file's own `machine.measuredAt` (when the suite gathered its facts, after the
 * run started it), falling back to the file's modification time when that field is absent or unparseable.
 * Rows that do not have the shape of a {@link ResultRow} make the file invalid rather than being guessed at,
 * and so does a file changed after `writtenBefore` (when the suite's process had already ended): on a
 * shared machine another run of the same suite may have overwritten it.
 */
export function loadSuiteFile(
  path: string | URL,
  runStartedAt: Date,
  options: { writtenBefore?: Date } = {},
): SuiteFile {
  let text: string;
  let modifiedAt: Date;
  try {
    text = readFileSync(path, "utf8");
    modifiedAt = statSync(path).mtime;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { status: "missing" };
    return { status: "invalid", reason: `cannot read it: ${(error as Error).message}` };
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { status: "invalid", reason: `not JSON: ${(error as Error).message}` };
  }
  const shapeError = suiteResultsShapeError(parsed);
  if (shapeError) return { status: "invalid", reason: shapeError };
  const results = parsed as SuiteResults;

  const measuredAt = Date.parse(results.machine.measuredAt);
  const writtenAt = Number.isNaN(measuredAt) ? modifiedAt : new Date(measuredAt);
  if (writtenAt.getTime() < runStartedAt.getTime()) {
    return { status: "stale", writtenAt: writtenAt.toISOString() };
  }
  if (options.writtenBefore && modifiedAt.getTime() > options.writtenBefore.getTime()) {
    return {
      status: "invalid",
      reason: `changed at ${modifiedAt.toISOString()}, after the suite's process ended: another process wrote it`,
    };
  }
  return { status: "fresh", results };
}

/** Why a parsed value is not a {@link SuiteResults}, or undefined when it is one. */
export function suiteResultsShapeError(value: unknown): string | undefined {
  if (!isRecord(value)) return "not an object";
  if (typeof value.suite !== "string") return "no `suite` name";
  if (!isRecord(value.machine)) return "no `machine` facts";
  if (!Array.isArray(value.rows)) return "no `rows` array";
  const bad = value.rows.findIndex((row) => !isResultRow(row));
  if (bad >= 0) return `row ${bad} lacks scenario, metric, numeric value or unit`;
  return undefined;
}

function isResultRow(row: unknown): row is ResultRow {
  return (
    isRecord(row) &&
    typeof row.scenario === "string" &&
    typeof row.metric === "string" &&
    typeof row.value === "number" &&
    typeof row.unit === "string"
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
