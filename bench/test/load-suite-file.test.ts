import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSuiteFile } from "../src/load-suite-file.js";
import { MACHINE, POSTGRES_ROWS, suiteResults } from "./fixtures.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "bench-load-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, content: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
};

const RUN_START = new Date("2026-11-23T17:45:00.000Z");

describe("loadSuiteFile", () => {
  it("accepts a file measured after the run started", () => {
    const file = write("fresh.json", suiteResults("postgres", POSTGRES_ROWS));
    const loaded = loadSuiteFile(file, RUN_START);
    expect(loaded.status).toBe("fresh");
  });

  it("calls a file measured before the run started stale", () => {
    const file = write("stale.json", {
      ...suiteResults("postgres", POSTGRES_ROWS),
      machine: { ...MACHINE, measuredAt: "2026-11-22T08:00:00.000Z" },
    });
    expect(loadSuiteFile(file, RUN_START)).toEqual({
      status: "stale",
      writtenAt: "2026-11-22T08:00:00.000Z",
    });
  });

  it("falls back to the modification time when the file has no measuredAt", () => {
    const { measuredAt: _, ...machine } = MACHINE;
    const file = write("no-date.json", { suite: "core", machine, rows: [] });
    utimesSync(file, new Date("2026-11-20T00:00:00Z"), new Date("2026-11-20T00:00:00Z"));
    expect(loadSuiteFile(file, RUN_START).status).toBe("stale");
  });

  it("rejects a file changed after its suite's process ended", () => {
    const file = write("overwritten.json", suiteResults("postgres", POSTGRES_ROWS));
    const loaded = loadSuiteFile(file, RUN_START, { writtenBefore: new Date(Date.now() - 60_000) });
    expect(loaded.status).toBe("invalid");
    expect(loaded.status === "invalid" && loaded.reason).toMatch(/after the suite's process ended/);
  });

  it("reports a missing file", () => {
    expect(loadSuiteFile(path.join(dir, "absent.json"), RUN_START)).toEqual({ status: "missing" });
  });

  it("rejects files that are not results", () => {
    expect(loadSuiteFile(write("garbage.json", "{not json"), RUN_START).status).toBe("invalid");
    expect(loadSuiteFile(write("array.json", [{ scenario: "x" }]), RUN_START).status).toBe("invalid");
    const badRow = write("bad-row.json", {
      suite: "x",
      machine: MACHINE,
      rows: [{ scenario: "x", metric: "y", value: "1", unit: "s" }],
    });
    expect(loadSuiteFile(badRow, RUN_START)).toEqual({
      status: "invalid",
      reason: "row 0 lacks scenario, metric, numeric value or unit",
    });
  });
});
