import { silentLogger } from "@eventsourced/core";
import type { LeaseKeeper } from "@eventsourced/leases";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ClusterStore } from "../src/cluster-store.js";
import { MIN_ROUND_GAP_MS, type RebalanceHost, Rebalancer } from "../src/rebalancer.js";

/**
 * Hints (`<prefix>.<cluster>.<type>.hint`) ask a node for a rebalancing round soon. Anyone on the NATS
 * account can publish them, and a mass handover publishes one per shard, so a flood of them must cost a
 * node a bounded number of rounds (each lists the members in the store), and must never postpone a round
 * that is due. Fake timers: the rounds are counted, nothing is timed.
 */
describe("Rebalancer under hints", () => {
  let rounds: number;
  let rebalancer: Rebalancer | undefined;

  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"],
    });
    rounds = 0;
  });
  afterEach(async () => {
    await rebalancer?.stop();
    rebalancer = undefined;
    vi.useRealTimers();
  });

  /** A rebalancer of one node over a store that answers at once and a keeper that acquires nothing. */
  function start(everyMs: number): Rebalancer {
    const store = {
      memberTtlMs: 60_000,
      heartbeat: async () => {},
      members: async () => {
        rounds++;
        return ["n1"];
      },
    } as unknown as ClusterStore;
    const keeper = { tryAcquire: async () => undefined } as unknown as LeaseKeeper;
    const host: RebalanceHost = {
      cluster: "c",
      typeName: "t",
      nodeId: "n1",
      shardCount: 4,
      minMembers: 1,
      maxMoveFraction: 1,
      everyMs,
      store,
      keeper,
      logger: silentLogger,
      running: () => true,
      held: () => new Set(),
      draining: () => false,
      leaseKey: (shard) => `shard-${shard}`,
      acquired: () => {},
      handOver: () => {},
    };
    rebalancer = new Rebalancer(host);
    return rebalancer;
  }

  /** One hint per millisecond for `ms` milliseconds, the i-th asking for a round in `delayOf(i)` ms. */
  async function flood(r: Rebalancer, ms: number, delayOf: (i: number) => number): Promise<void> {
    for (let i = 0; i < ms; i++) {
      r.schedule(delayOf(i));
      await vi.advanceTimersByTimeAsync(1);
    }
  }

  it("runs at most one round per minimum gap under a flood of hints", async () => {
    const r = start(10_000);
    await r.start();
    expect(rounds).toBe(1);
    // 5,000 hints, one per millisecond: 5 s of flood against periodic rounds every 10 s.
    await flood(r, 5_000, (i) => i % 20);
    const floodRounds = rounds - 1;
    expect(floodRounds).toBeGreaterThan(0); // hints are not ignored
    expect(floodRounds).toBeLessThanOrEqual(5_000 / MIN_ROUND_GAP_MS + 1);
  });

  it("a stream of hints does not postpone the round the first one asked for", async () => {
    const r = start(10_000);
    await r.start();
    // Each hint asks for a round in 19 ms; they come every millisecond for 200 ms.
    await flood(r, 200, () => 19);
    expect(rounds).toBeGreaterThan(1);
  });

  it("a hint after a quiet spell gets its round after its own delay", async () => {
    const r = start(10_000);
    await r.start();
    await vi.advanceTimersByTimeAsync(1_000);
    r.schedule(5);
    await vi.advanceTimersByTimeAsync(4);
    expect(rounds).toBe(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(rounds).toBe(2);
  });

  it("the gap never exceeds the periodic interval", async () => {
    const r = start(20);
    await r.start();
    await flood(r, 1_000, () => 0);
    // Periodic rounds every 20 ms run as before: about 50 in 1 s, hints add none beyond them.
    expect(rounds).toBeGreaterThanOrEqual(40);
    expect(rounds).toBeLessThanOrEqual(1_000 / 20 + 2);
  });
});
