import { describe, expect, it } from "vitest";
import { runProcess } from "../src/run-process.js";
import { succeeded } from "../src/run-report.js";

// A failing exit and a process killed at its budget are specified through runBenchmarks (run-benchmarks.test.ts).
const run = (command: string, args: string[]) =>
  runProcess({ label: "test", command, args, cwd: process.cwd(), timeoutMs: 20_000 });

describe("runProcess", () => {
  it("reports a clean exit", async () => {
    const outcome = await run(process.execPath, ["-e", "process.exit(0)"]);
    expect(outcome).toMatchObject({ exitCode: 0, signal: null, timedOut: false });
    expect(outcome.command).toBe("node -e process.exit(0)");
    expect(succeeded(outcome)).toBe(true);
  });

  it("reports a command that cannot start", async () => {
    const outcome = await run("/nonexistent/binary", []);
    expect(outcome.error).toMatch(/cannot start/);
    expect(succeeded(outcome)).toBe(false);
  });
});
