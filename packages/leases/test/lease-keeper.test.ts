import { isEventSourcedError, silentLogger } from "@eventsourced/core";
import { LeaseKeeper, type LeaseKeeperOptions, type LeaseLogEntry } from "@eventsourced/leases";
import { InMemoryLeaseStore, overlappingIntervals, validityIntervals } from "@eventsourced/leases/testing";
import { describe, expect, it, type OnTestFinishedHandler } from "vitest";
import { ScriptedLeaseStore } from "./support/scripted-lease-store.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Blocks the event loop, as a long GC pause or SIGSTOP would: no timer or I/O callback runs meanwhile. */
function freeze(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** Makes keepers for one test, closed when it finishes (tests run concurrently: no shared list). */
const keepersFor =
  (onTestFinished: (fn: OnTestFinishedHandler) => void) =>
  (store: InMemoryLeaseStore | ScriptedLeaseStore, options: LeaseKeeperOptions = {}) => {
    const made = new LeaseKeeper(store, { logger: silentLogger, ...options });
    onTestFinished(() => made.close());
    return made;
  };

// Concurrent: most tests wait out real TTLs of their own in-memory stores. The one that blocks the event loop
// (freeze) runs on its own, so that no other test's timers are held up by it.
describe.concurrent("LeaseKeeper", () => {
  it("keeps a lease valid across several TTLs by renewing it every TTL / 3, under one epoch", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 1_000 });
    const log: LeaseLogEntry[] = [];
    const lease = await keeper(store, { onLog: (entry) => log.push(entry) }).acquire("k");
    await sleep(2_500);
    expect(lease.isValid()).toBe(true);
    expect(lease.status).toBe("held");
    expect(await store.holder("k")).toEqual({ key: "k", owner: lease.owner, epoch: lease.epoch });
    expect(log.filter((e) => e.event === "renewed").length).toBeGreaterThanOrEqual(4);
    expect(new Set(log.map((e) => e.epoch))).toEqual(new Set([lease.epoch]));
  });

  it("sets the local deadline to the renewal's send time + TTL - margin", async ({ onTestFinished }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 2_000 });
    const k = keeper(store);
    expect([k.marginMs, k.renewEveryMs]).toEqual([250, 2_000 / 3]);
    expect(keeper(new InMemoryLeaseStore({ ttlMs: 10_000 })).marginMs).toBe(1_000);
    const before = process.hrtime.bigint();
    const lease = await k.acquire("k");
    const after = process.hrtime.bigint();
    expect(lease.validUntil).toBeGreaterThan(before + 1_750_000_000n);
    expect(lease.validUntil).toBeLessThanOrEqual(after + 1_750_000_000n);
    expect(lease.validFor(1_000)).toBe(true);
    expect(lease.validFor(5_000)).toBe(false);
  });

  it("waits while another keeper holds the key and takes it at once when that one releases", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 60_000 });
    const first = await keeper(store).acquire("k");
    const second = keeper(store, { pollMs: 60_000 }).acquire("k");
    await sleep(100);
    await first.release();
    const taken = await second;
    expect(taken.epoch).toBeGreaterThan(first.epoch);
    expect(taken.owner).not.toBe(first.owner);
  });

  it("takes over a key whose holder can no longer reach the store after the TTL, never while it is valid", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 1_000 });
    const scripted = new ScriptedLeaseStore(store);
    const log: LeaseLogEntry[] = [];
    const first = await keeper(scripted, { onLog: (e) => log.push(e) }).acquire("k");
    scripted.unreachable = new Error("unreachable");
    const second = await keeper(store, { pollMs: 100, onLog: (e) => log.push(e) }).acquire("k");
    expect(first.isValid()).toBe(false);
    expect(second.epoch).toBeGreaterThan(first.epoch);
    const acquired = log.find((e) => e.event === "acquired" && e.owner === second.owner)!;
    expect(acquired.at).toBeGreaterThan(first.validUntil);
    expect(overlappingIntervals(validityIntervals(log))).toEqual([]);
  });

  it("renews a lease whose acquire was answered late before its deadline: the first renewal counts from the send", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    const scripted = new ScriptedLeaseStore(new InMemoryLeaseStore({ ttlMs: 1_000 }));
    // Validity 900 ms from the send, renewals every 333 ms: answered after 650 ms, a first renewal counted
    // from the reply would be due 983 ms after the send, past the deadline.
    scripted.acquireReplyDelayMs = 650;
    const lost: string[] = [];
    const lease = await keeper(scripted, { onLost: (_, reason) => lost.push(reason) }).acquire("k");
    await sleep(1_500);
    expect(lost).toEqual([]);
    expect([lease.isValid(), lease.status]).toEqual([true, "held"]);
    expect(scripted.renewalBatches.length).toBeGreaterThanOrEqual(2);
  });

  it("loses a lease whose renewals fail at its deadline, calling onLost exactly once", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    const scripted = new ScriptedLeaseStore(new InMemoryLeaseStore({ ttlMs: 1_000 }));
    const lost: string[] = [];
    const lease = await keeper(scripted, { onLost: (_, reason) => lost.push(reason) }).acquire("k");
    scripted.unreachable = new Error("unreachable");
    const end = await lease.whenEnded;
    expect(end.reason).toBe("deadline-passed");
    expect(end.validUntil).toBe(lease.validUntil);
    expect(end.at).toBeGreaterThanOrEqual(end.validUntil);
    await sleep(500);
    expect(lost).toEqual(["deadline-passed"]);
    expect([lease.isValid(), lease.status]).toEqual([false, "lost"]);
  });

  it("loses a lease at once when a renewal is refused (the store says it expired)", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    let now = 0;
    const store = new InMemoryLeaseStore({ ttlMs: 1_000, now: () => now });
    const lost: string[] = [];
    const k = keeper(store, { onLost: (_, reason) => lost.push(reason) });
    const lease = await k.acquire("k");
    now += 1_000; // expired on the store's clock, though not on ours
    const end = await lease.whenEnded;
    expect(end.reason).toBe("renewal-refused");
    expect(end.validUntil).toBe(end.at);
    expect(lost).toEqual(["renewal-refused"]);
    expect(k.lease("k")).toBeUndefined();
  });

  it.sequential("after a pause past its deadline, reports the lease lost at the first question, before any timer runs", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 1_000 });
    const lost: string[] = [];
    const lease = await keeper(store, { onLost: (_, reason) => lost.push(reason) }).acquire("k");
    freeze(1_100);
    expect(lost).toEqual([]); // nothing ran during the pause
    expect(lease.isValid()).toBe(false);
    expect(lost).toEqual(["deadline-passed"]); // onLost ran before isValid() answered
    await sleep(500);
    expect(lost).toEqual(["deadline-passed"]);
  });

  it("does not let a renewal whose reply came after the deadline revive the lease, and frees the key", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 1_000 });
    const scripted = new ScriptedLeaseStore(store);
    const lease = await keeper(scripted).acquire("k");
    scripted.replyDelayMs = 1_000;
    const end = await lease.whenEnded;
    expect(end.reason).toBe("deadline-passed");
    await sleep(1_200); // the late reply arrives, then the keeper releases the tenure it extended
    expect(lease.isValid()).toBe(false);
    expect(await store.holder("k")).toBeUndefined();
  });

  it("releases: invalid at once, the key free at the store, no onLost", async ({ onTestFinished }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 5_000 });
    const lost: string[] = [];
    const lease = await keeper(store, { onLost: (_, reason) => lost.push(reason) }).acquire("k");
    const releasing = lease.release();
    expect(lease.isValid()).toBe(false);
    await releasing;
    expect((await lease.whenEnded).reason).toBe("released");
    expect(lease.status).toBe("released");
    expect(await store.holder("k")).toBeUndefined();
    expect(lost).toEqual([]);
    await lease.release(); // a no-op
  });

  it("renews every held lease in one renewMany per round", async ({ onTestFinished }) => {
    const keeper = keepersFor(onTestFinished);
    const scripted = new ScriptedLeaseStore(new InMemoryLeaseStore({ ttlMs: 1_000 }));
    const k = keeper(scripted);
    const leases = await Promise.all(Array.from({ length: 20 }, (_, i) => k.acquire(`shard.${i}`)));
    scripted.renewalBatches.length = 0;
    await sleep(1_200);
    expect(scripted.renewalBatches.length).toBeGreaterThanOrEqual(2);
    expect(scripted.renewalBatches.length).toBeLessThanOrEqual(5);
    expect(scripted.renewalBatches.every((size) => size === 20)).toBe(true);
    expect(leases.every((lease) => lease.isValid())).toBe(true);
    expect(k.leases).toHaveLength(20);
  });

  it("keeps trying to acquire through store failures and succeeds once the store answers again", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    const scripted = new ScriptedLeaseStore(new InMemoryLeaseStore({ ttlMs: 1_000 }));
    scripted.acquisitionsFail = new Error("connection refused");
    const acquired: string[] = [];
    const acquiring = keeper(scripted, {
      pollMs: 50,
      onAcquired: (lease) => acquired.push(lease.key),
    }).acquire("k");
    await sleep(300);
    expect(acquired).toEqual([]);
    scripted.acquisitionsFail = undefined;
    const lease = await acquiring;
    expect(lease.isValid()).toBe(true);
    expect(acquired).toEqual(["k"]);
  });

  it("tries once with tryAcquire: nothing while another keeper holds the key", async ({ onTestFinished }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 5_000 });
    await keeper(store).acquire("k");
    const other = keeper(store);
    expect(await other.tryAcquire("k")).toBeUndefined();
    expect(other.leases).toEqual([]);
  });

  it("returns the lease it already holds instead of acquiring again", async ({ onTestFinished }) => {
    const keeper = keepersFor(onTestFinished);
    const k = keeper(new InMemoryLeaseStore({ ttlMs: 5_000 }));
    const lease = await k.acquire("k");
    expect(await k.acquire("k")).toBe(lease);
    expect(await k.tryAcquire("k")).toBe(lease);
    expect(k.lease("k")).toBe(lease);
  });

  it("gives up waiting when the signal aborts, holding nothing", async ({ onTestFinished }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 60_000 });
    await keeper(store).acquire("k");
    const other = keeper(store, { pollMs: 50 });
    const stop = new AbortController();
    const waiting = other.acquire("k", { signal: stop.signal });
    setTimeout(() => stop.abort(new Error("not needed any more")), 200);
    await expect(waiting).rejects.toThrow("not needed any more");
    expect(other.leases).toEqual([]);
  });

  it("close releases every lease and makes waiting acquisitions reject with LeaseKeeperClosedError", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 60_000 });
    const holder = keeper(store);
    await Promise.all([holder.acquire("a"), holder.acquire("b")]);
    const waiter = keeper(store, { pollMs: 50 });
    const waiting = waiter.acquire("a").catch((err: unknown) => err);
    await waiter.close();
    expect(isEventSourcedError(await waiting, "LEASE_KEEPER_CLOSED")).toBe(true);
    await holder.close();
    expect([await store.holder("a"), await store.holder("b")]).toEqual([undefined, undefined]);
    await expect(holder.acquire("c")).rejects.toSatisfy((err) =>
      isEventSourcedError(err, "LEASE_KEEPER_CLOSED"),
    );
  });

  it("refuses timings that leave no room to renew before the deadline", () => {
    const store = new InMemoryLeaseStore({ ttlMs: 1_000 });
    for (const options of [{ marginMs: 1_000 }, { renewEveryMs: 750 }, { renewEveryMs: 0 }, { pollMs: 0 }]) {
      expect(() => new LeaseKeeper(store, options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: "CONFIGURATION_INVALID" }),
      );
    }
  });

  it("logs intervals that never overlap while keepers hand a key back and forth", async ({
    onTestFinished,
  }) => {
    const keeper = keepersFor(onTestFinished);
    const store = new InMemoryLeaseStore({ ttlMs: 1_000 });
    const log: LeaseLogEntry[] = [];
    const ks = [0, 1, 2].map(() => keeper(store, { pollMs: 20, onLog: (e) => log.push(e) }));
    for (let round = 0; round < 9; round++) {
      const lease = await ks[round % 3]!.acquire("k");
      await sleep(30);
      await lease.release();
    }
    const intervals = validityIntervals(log);
    expect(intervals).toHaveLength(9);
    expect(intervals.every((i) => i.ended && i.end > i.start)).toBe(true);
    expect(overlappingIntervals(intervals)).toEqual([]);
  });
});

describe("overlappingIntervals", () => {
  it("finds two tenures of one key valid at the same instant, and only those", () => {
    const entry = (
      event: LeaseLogEntry["event"],
      key: string,
      owner: string,
      epoch: number,
      at: bigint,
      validUntil: bigint,
    ) => ({ event, key, owner, epoch, at, validUntil }) as LeaseLogEntry;
    const log = [
      entry("acquired", "k", "A", 1, 0n, 100n),
      entry("renewed", "k", "A", 1, 50n, 150n),
      entry("acquired", "k", "B", 2, 140n, 300n), // A was still valid until 150
      entry("acquired", "other", "C", 1, 140n, 300n),
      entry("acquired", "k", "D", 3, 400n, 500n),
      entry("ended", "k", "D", 3, 450n, 450n),
    ];
    const overlaps = overlappingIntervals(validityIntervals(log));
    expect(overlaps.map(([a, b]) => [a.owner, b.owner])).toEqual([["A", "B"]]);
  });
});
