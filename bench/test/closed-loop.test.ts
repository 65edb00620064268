import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { closedLoop } from "../src/closed-loop.js";
import { comparisonRow } from "../src/measure.js";

describe("closedLoop", () => {
  it("keeps one command in flight per worker and numbers each worker's commands from 0", async () => {
    const inFlight = new Set<number>();
    const seqs: number[][] = [[], [], []];
    let overlapped = false;
    await closedLoop({ workers: 3, durationMs: 40 }, async (worker, seq) => {
      overlapped ||= inFlight.has(worker);
      inFlight.add(worker);
      seqs[worker]!.push(seq);
      await sleep(1);
      inFlight.delete(worker);
    });
    expect(overlapped).toBe(false);
    for (const worker of seqs) expect(worker).toEqual(worker.map((_, i) => i));
  });

  it("counts no more commands than were sent, none during the warm-up, and records their latencies", async () => {
    let sent = 0;
    const measured = await closedLoop({ workers: 2, durationMs: 200, warmupMs: 50 }, async () => {
      sent++;
      await sleep(1);
    });
    expect(measured.perSecond * 0.2).toBeGreaterThan(0);
    expect(measured.perSecond * 0.2).toBeLessThan(sent);
    expect(measured.p50Ms).toBeGreaterThan(0);
    expect(measured.p99Ms).toBeGreaterThanOrEqual(measured.p50Ms);
  });
});

describe("comparisonRow", () => {
  const fields = { scenario: "s", metric: "m" };

  it("summarises the rounds by median and spread and compares rates as value / baseline", () => {
    const rate = { ...fields, unit: "commands/s" };
    const row = comparisonRow(rate, (v: number) => v, [90, 80, 100], [100, 100, 120]);
    expect(row).toEqual({ ...rate, value: 90, min: 80, max: 100, rounds: 3, baseline: 100, ratio: 0.9 });
  });

  it("compares times as baseline / value, so that a higher ratio is better for ours either way", () => {
    expect(comparisonRow({ ...fields, unit: "ms" }, (v: number) => v, [4], [2]).ratio).toBe(0.5);
  });
});
