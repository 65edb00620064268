import { describe, expect, it } from "vitest";
import { type Ack, lagFigures } from "../src/projections-lag.js";

describe("lagFigures", () => {
  // Persists started every 10 ms for 1 s, acknowledged 1 ms later; the first 200 ms (the warm-up) delivered
  // 500 ms after their acknowledgement, the rest 5 ms after, and one key never delivered.
  const acked = new Map<number, Ack>();
  const delivered = new Map<number, number>();
  for (let k = 0; k < 100; k++) {
    const startedAt = 1_000 + k * 10;
    acked.set(k, { startedAt, ackedAt: startedAt + 1 });
    if (k !== 99) delivered.set(k, startedAt + 1 + (k < 20 ? 500 : 5));
  }

  it("counts every delivered key without a warm-up", () => {
    const all = lagFigures(acked, delivered, 100);
    expect(all.matched).toBe(99);
    expect(all.p99Ms).toBe(500);
  });

  it("leaves out the persists started during the warm-up, measured from the first start", () => {
    const steady = lagFigures(acked, delivered, 100, 200);
    expect(steady.matched).toBe(79);
    expect(steady.p50Ms).toBe(5);
    expect(steady.p99Ms).toBe(5);
    expect(steady.startP99Ms).toBe(6);
  });
});
