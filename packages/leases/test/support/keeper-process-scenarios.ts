import { overlappingIntervals, validityIntervals } from "@eventsourced/leases/testing";
import { afterAll, beforeAll, describe, expect, it, type OnTestFinishedHandler } from "vitest";
import { KeeperProcess, requireBuild } from "./keeper-process.js";

/** What a backend gives the scenarios: the fixture's arguments before `<key> <ttlMs> <pollMs>`. */
export interface KeeperBackend {
  readonly args: readonly string[];
  readonly cleanup: () => Promise<void>;
}

const TTL_MS = 2_000;
const POLL_MS = 500;
const BOUND_MS = TTL_MS + 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (ns: bigint) => Number(ns) / 1e6;

/**
 * Lease holders in separate processes on one key, against a real store: pauses (SIGSTOP) and crashes
 * (SIGKILL) of the holder. Invariant checked from the processes' hrtime logs: no two validity intervals
 * overlap, and a paused holder acts no more once resumed. Handover times are printed, never asserted.
 *
 * The scenarios run concurrently (each on its own key with its own processes; most of their time is spent
 * waiting out TTLs), which keeps the file at the length of the longest one.
 */
export function describeKeeperProcessScenarios(name: string, backend: () => Promise<KeeperBackend>): void {
  describe.concurrent(`LeaseKeeper processes on ${name} (TTL ${TTL_MS} ms, poll ${POLL_MS} ms)`, () => {
    let made: KeeperBackend;
    let keyCount = 0;
    /** Starts `count` keepers on a fresh key; they are killed when the calling test finishes. */
    const start = (count: number, onTestFinished: (fn: OnTestFinishedHandler) => void) => {
      keyCount += 1;
      const key = `proc.k${keyCount}.${Date.now().toString(36)}`;
      const started = Array.from(
        { length: count },
        (_, i) => new KeeperProcess(`keeper ${i}`, [...made.args, key, String(TTL_MS), String(POLL_MS)]),
      );
      onTestFinished(async () => {
        await Promise.all(started.map((p) => p.stop()));
      });
      return started;
    };
    const holderOf = async (candidates: readonly KeeperProcess[]) => {
      await Promise.race(
        candidates.map((p) => p.waitFor("acquisition", () => p.acquisitions().length > 0, BOUND_MS)),
      );
      return candidates.find((p) => p.acquisitions().length > 0)!;
    };
    const expectNoOverlap = (all: readonly KeeperProcess[]) => {
      const intervals = validityIntervals(all.flatMap((p) => p.log));
      expect(overlappingIntervals(intervals)).toEqual([]);
      return intervals;
    };

    beforeAll(async () => {
      requireBuild();
      made = await backend();
    });
    afterAll(async () => {
      await made?.cleanup();
    });

    it("lets exactly one of two processes hold the key; a holder paused for 2 x TTL is replaced after the TTL and acts no more once resumed", async ({
      expect,
      onTestFinished,
    }) => {
      const pair = start(2, onTestFinished);
      const holder = await holderOf(pair);
      const other = pair.find((p) => p !== holder)!;
      await sleep(TTL_MS);
      expect(pair.flatMap((p) => p.acquisitions())).toHaveLength(1);
      expect(holder.log.some((e) => e.event === "renewed")).toBe(true);

      await holder.signal("SIGSTOP");
      const stoppedAt = process.hrtime.bigint();
      await other.waitFor("takeover", () => other.acquisitions().length > 0, BOUND_MS);
      const takeover = other.acquisitions()[0]!;
      const remaining = 2 * TTL_MS - ms(process.hrtime.bigint() - stoppedAt);
      if (remaining > 0) await sleep(remaining);
      const resumedAt = process.hrtime.bigint();
      await holder.signal("SIGCONT");
      await holder.waitFor("loss", () => holder.lost.length > 0, BOUND_MS);
      await sleep(2 * POLL_MS); // the resumed process tries again; the other keeps the key

      const first = holder.acquisitions()[0]!;
      expect(holder.lost).toEqual(["deadline-passed"]);
      expect(takeover.epoch).toBeGreaterThan(first.epoch);
      expect(takeover.at).toBeGreaterThan(
        holder.log.filter((e) => e.epoch === first.epoch).at(-1)!.validUntil,
      );
      expect(holder.work.filter((t) => t > stoppedAt)).toEqual([]);
      expect(holder.acquisitions()).toHaveLength(1);
      const ended = holder.log.find((e) => e.event === "ended")!;
      expect(ended.at).toBeGreaterThanOrEqual(resumedAt);
      expectNoOverlap(pair);
      console.log(
        `[leases/${name}] SIGSTOP 2 x TTL: takeover ${ms(takeover.at - stoppedAt).toFixed(0)} ms after the stop; ` +
          `resumed holder noticed its loss ${ms(ended.at - resumedAt).toFixed(1)} ms after SIGCONT`,
      );
    });

    it("keeps the key with its holder through a pause of 0.5 x TTL that starts right after a renewal", async ({
      expect,
      onTestFinished,
    }) => {
      const pair = start(2, onTestFinished);
      const holder = await holderOf(pair);
      const other = pair.find((p) => p !== holder)!;
      const renewals = () => holder.log.filter((e) => e.event === "renewed");
      const seen = renewals().length;
      await holder.waitFor("renewal", () => renewals().length > seen, BOUND_MS);
      await holder.signal("SIGSTOP");
      const stoppedAt = process.hrtime.bigint();
      // The pause ends TTL / 2 after the renewal as the holder logged it (hrtime is the machine's monotonic
      // clock, shared by both processes), not TTL / 2 after this process saw the line: on a loaded machine
      // the line can arrive hundreds of ms late, and a fixed pause would then eat into the lease's margin.
      const renewal = renewals().at(-1)!;
      const resumeAt = renewal.at + BigInt(TTL_MS / 2) * 1_000_000n;
      await sleep(Math.max(0, ms(resumeAt - process.hrtime.bigint())));
      const resumedAt = process.hrtime.bigint();
      await holder.signal("SIGCONT");
      console.log(
        `[leases/${name}] pause of ${ms(resumedAt - stoppedAt).toFixed(0)} ms began ` +
          `${ms(stoppedAt - renewal.at).toFixed(0)} ms after a renewal; ` +
          `${ms(renewal.validUntil - resumedAt).toFixed(0)} ms of validity left at SIGCONT`,
      );
      // Had the holder not renewed in time, its lease would have expired TTL after the pause began and the
      // other would have taken it by its next poll.
      await sleep(TTL_MS / 2 + 2 * POLL_MS);
      expect(other.acquisitions()).toEqual([]);
      expect(holder.lost).toEqual([]);
      expect(holder.acquisitions()).toHaveLength(1);
      expect(holder.log.filter((e) => e.event === "renewed" && e.at > resumedAt).length).toBeGreaterThan(0);
      expect(holder.work.filter((t) => t > resumedAt).length).toBeGreaterThan(0);
      expectNoOverlap(pair);
    });

    it("hands the key over after kill -9 of the holder within about TTL + poll, three times in a row", async ({
      expect,
      onTestFinished,
    }) => {
      const group = start(4, onTestFinished);
      const handovers: number[] = [];
      let alive = group;
      let holder = await holderOf(alive);
      for (let round = 0; round < 3; round++) {
        const renewals = () => holder.log.filter((e) => e.event === "renewed").length;
        const seen = renewals();
        await holder.waitFor("renewal", () => renewals() > seen, BOUND_MS);
        await holder.stop(); // SIGKILL
        const killedAt = process.hrtime.bigint();
        alive = alive.filter((p) => p !== holder);
        const previous = holder;
        holder = await holderOf(alive);
        const takeover = holder.acquisitions().at(-1)!;
        const lastDeadline = previous.log.at(-1)!.validUntil;
        expect(takeover.at).toBeGreaterThan(lastDeadline);
        handovers.push(ms(takeover.at - killedAt));
      }
      const epochs = group
        .flatMap((p) => p.acquisitions())
        .sort((a, b) => (a.at < b.at ? -1 : 1))
        .map((e) => e.epoch);
      expect(epochs).toEqual([...epochs].sort((a, b) => a - b));
      expect(new Set(epochs).size).toBe(epochs.length);
      expectNoOverlap(group);
      console.log(
        `[leases/${name}] kill -9 handover (kill -> new holder's acquisition): ${handovers.map((h) => h.toFixed(0)).join(", ")} ms` +
          ` (TTL ${TTL_MS} + poll ${POLL_MS} = ${TTL_MS + POLL_MS} ms)`,
      );
    });
  });
}
