import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSuiteFile } from "../src/load-suite-file.js";
import { MACHINE, POSTGRES_ROWS, suiteResults } from "./fixtures.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "bench-load-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The suite's process ran from 17:45 to 17:55; the fixtures were measured at 17:50.
const STARTED = new Date("2026-11-23T17:45:00.000Z");
const ENDED = new Date("2026-11-23T17:55:00.000Z");

/** Writes `content` (JSON unless a string) to `name` and loads it as a file of that process. */
const load = (name: string, content: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return loadSuiteFile(file, STARTED, ENDED);
};
const FRESH = suiteResults("postgres", POSTGRES_ROWS);
const measuredAt = (at: string) => ({ ...FRESH, machine: { ...MACHINE, measuredAt: at } });

describe("loadSuiteFile", () => {
  it("accepts a file measured while the suite's process ran", () => {
    expect(load("fresh.json", FRESH)).toEqual({ status: "fresh", results: FRESH });
  });

  it("calls a file measured before the process started stale", () => {
    const writtenAt = "2026-11-22T08:00:00.000Z";
    expect(load("stale.json", measuredAt(writtenAt))).toEqual({ status: "stale", writtenAt });
  });

  it("rejects a file measured after the process ended: another process wrote it", () => {
    const loaded = load("overwritten.json", measuredAt("2026-11-23T18:00:00.000Z"));
    expect(loaded.status === "invalid" && loaded.reason).toMatch(/after the suite's process ended/);
  });

  it("rejects files that are not results", () => {
    expect(load("garbage.json", "{not json").status).toBe("invalid");
    expect(load("array.json", [{ scenario: "x" }]).status).toBe("invalid");
    expect(load("no-time.json", measuredAt("yesterday")).status).toBe("invalid");
    const badRow = {
      ...suiteResults("x", []),
      rows: [{ scenario: "x", metric: "y", value: "1", unit: "s" }],
    };
    const reason = "row 0 lacks scenario, metric, numeric value or unit";
    expect(load("bad-row.json", badRow)).toEqual({ status: "invalid", reason });
  });
});
