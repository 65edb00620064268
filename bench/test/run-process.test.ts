import { describe, expect, it } from "vitest";
import { runProcess } from "../src/run-process.js";
import { succeeded } from "../src/run-report.js";

// A clean exit, a failing one and a process killed at its budget are specified through runBenchmarks
// (run-benchmarks.test.ts), which runs each of them.
describe("runProcess", () => {
  it("reports a command that cannot start", async () => {
    const options = {
      label: "x",
      command: "/nonexistent/binary",
      args: [],
      cwd: process.cwd(),
      timeoutMs: 5_000,
    };
    const outcome = await runProcess(options);
    expect(outcome.error).toMatch(/cannot start/);
    expect(succeeded(outcome)).toBe(false);
  });
});
