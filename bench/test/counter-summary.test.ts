import { describe, expect, it } from "vitest";
import { type CounterSummary, counterRows, parseCounterSummary } from "../src/counter-summary.js";

const SUMMARY: CounterSummary = {
  log: "postgres",
  entityCount: 100,
  evtCount: 10_000,
  commandsPlanned: 1_000_000,
  commands: 1_000_000,
  rejected: 0,
  writeSeconds: 21.5,
  commandsPerSecond: 46_512,
  p50Ms: 1.9,
  p99Ms: 4.8,
  recoverySeconds: 1.2,
  evtsReplayed: 1_000_000,
  evtsReplayedPerSecond: 833_333,
  verified: true,
  projectionVerified: true,
  interrupted: false,
  startTotal: "0",
  error: null,
  maxActive: 10_000,
  passivations: 0,
};

describe("counter summary", () => {
  it("turns a summary into one row per figure", () => {
    const rows = counterRows(parseCounterSummary(JSON.stringify(SUMMARY)));
    expect(rows.map((r) => `${r.metric}: ${r.value} ${r.unit}`)).toEqual([
      "write phase: 21.5 s",
      "write throughput: 46512 commands/s",
      "p50 latency: 1.9 ms",
      "p99 latency: 4.8 ms",
      "recovery: 1.2 s",
      "replay: 833333 events/s",
      "verified: 1 boolean",
    ]);
    expect(new Set(rows.map((r) => r.scenario))).toEqual(new Set(["counter on postgres, 100 x 10,000"]));
  });

  it("leaves out the figures a run did not reach", () => {
    const unreached = { recoverySeconds: null, evtsReplayedPerSecond: null, verified: null };
    const metrics = counterRows({ ...SUMMARY, ...unreached }).map((r) => r.metric);
    expect(metrics.join(", ")).toBe("write phase, write throughput, p50 latency, p99 latency");
  });

  it("names a stopped run's scenario after the commands it completed", () => {
    const rows = counterRows({ ...SUMMARY, log: "nats", commands: 910_617, interrupted: true });
    expect(rows[0]!.scenario).toBe("counter on nats, 100 x 10,000 (stopped after 910,617 commands)");
  });

  it("rejects a summary that is not a JSON object with the counts", () => {
    expect(() => parseCounterSummary("[]")).toThrow(TypeError);
    expect(() => parseCounterSummary("null")).toThrow(TypeError);
    expect(() => parseCounterSummary(JSON.stringify({ ...SUMMARY, commands: "12" }))).toThrow(TypeError);
    expect(() => parseCounterSummary("nope")).toThrow(SyntaxError);
  });
});
