import { describe, expect, it } from "vitest";
import { runProcess } from "../src/run-process.js";
import { succeeded } from "../src/run-report.js";

const run = (command: string, args: string[], timeoutMs = 20_000) =>
  runProcess({ label: "test", command, args, cwd: process.cwd(), timeoutMs });
const node = (script: string, timeoutMs?: number) => run(process.execPath, ["-e", script], timeoutMs);

describe("runProcess", () => {
  it("reports a clean exit", async () => {
    const outcome = await node("process.exit(0)");
    expect(outcome).toMatchObject({ exitCode: 0, signal: null, timedOut: false });
    expect(outcome.command).toBe("node -e process.exit(0)");
    expect(succeeded(outcome)).toBe(true);
  });

  it("reports a failing exit without throwing", async () => {
    const outcome = await node("process.exit(3)");
    expect(outcome.exitCode).toBe(3);
    expect(succeeded(outcome)).toBe(false);
  });

  it("kills a process that exceeds its budget and says so", async () => {
    const outcome = await node("setInterval(() => {}, 1000)", 300);
    expect(outcome).toMatchObject({ timedOut: true, signal: "SIGTERM" });
    expect(succeeded(outcome)).toBe(false);
  });

  it("reports a command that cannot start", async () => {
    const outcome = await run("/nonexistent/binary", [], 5_000);
    expect(outcome.error).toMatch(/cannot start/);
    expect(succeeded(outcome)).toBe(false);
  });
});
