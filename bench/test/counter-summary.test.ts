import { describe, expect, it } from "vitest";
import { counterRows, parseCounterSummary } from "../src/counter-summary.js";

const REQUESTED = { log: "postgres", entityCount: 100, evtCount: 10_000 };

describe("counter summary", () => {
  it("turns a full summary into one row per figure", () => {
    const summary = parseCounterSummary(
      JSON.stringify({
        log: "postgres",
        entityCount: 100,
        evtCount: 10000,
        commands: 1000000,
        writeSeconds: 21.5,
        commandsPerSecond: 46512,
        p50Ms: 1.9,
        p99Ms: 4.8,
        recoverySeconds: 1.2,
        evtsReplayed: 1000000,
        evtsReplayedPerSecond: 833333,
        verified: true,
        interrupted: false,
        error: null,
        startTotal: "0",
      }),
    );
    const rows = counterRows(summary, REQUESTED);
    expect(rows.map((r) => [r.metric, r.value, r.unit])).toEqual([
      ["write phase", 21.5, "s"],
      ["write throughput", 46512, "commands/s"],
      ["p50 latency", 1.9, "ms"],
      ["p99 latency", 4.8, "ms"],
      ["recovery", 1.2, "s"],
      ["replay", 833333, "events/s"],
      ["verified", 1, "boolean"],
    ]);
    expect(new Set(rows.map((r) => r.scenario))).toEqual(new Set(["counter on postgres, 100 x 10,000"]));
  });

  it("tolerates missing, mistyped and stringly numeric fields", () => {
    const summary = parseCounterSummary(
      JSON.stringify({ writeSeconds: "12.5", p99Ms: null, verified: "yes", extra: 1 }),
    );
    expect(summary).toEqual({ writeSeconds: 12.5 });
    expect(counterRows(summary, { log: "nats", entityCount: 20, evtCount: 500 })).toEqual([
      { scenario: "counter on nats, 20 x 500", metric: "write phase", value: 12.5, unit: "s" },
    ]);
  });

  it("names a stopped run's scenario after the commands it completed", () => {
    const summary = parseCounterSummary(
      JSON.stringify({
        log: "nats",
        commandsPlanned: 1000000,
        commands: 910617,
        interrupted: true,
        writeSeconds: 298,
      }),
    );
    expect(counterRows(summary, { log: "nats", entityCount: 100, evtCount: 10_000 })[0]!.scenario).toBe(
      "counter on nats, 100 x 10,000 (stopped after 910,617 commands)",
    );
  });

  it("keeps the counter's own failure report", () => {
    const summary = parseCounterSummary(JSON.stringify({ interrupted: true, error: "connection lost" }));
    expect(summary).toEqual({ interrupted: true, error: "connection lost" });
  });

  it("rejects a summary that is not a JSON object", () => {
    expect(() => parseCounterSummary("[]")).toThrow(TypeError);
    expect(() => parseCounterSummary("nope")).toThrow(SyntaxError);
  });
});
