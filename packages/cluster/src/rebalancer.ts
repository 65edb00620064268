import type { Logger } from "@eventsourced/core";
import type { Lease, LeaseKeeper } from "@eventsourced/leases";
import type { ClusterStore } from "./cluster-store.js";
import { planRebalance } from "./rebalance.js";

const ACQUIRE_CONCURRENCY = 16;

/**
 * The shortest pause between the end of one round and the start of a round asked for by a hint (or by a
 * hint during a round), capped at `everyMs`: a flood of hints (a mass handover, or anyone publishing on the
 * hint subject) then costs a node at most one round per pause, not back-to-back rounds (ADR 0118).
 */
export const MIN_ROUND_GAP_MS = 100;

/** What the rebalancer needs from its node. */
export interface RebalanceHost {
  readonly cluster: string;
  readonly typeName: string;
  readonly nodeId: string;
  readonly shardCount: number;
  readonly minMembers: number;
  readonly maxMoveFraction: number;
  readonly everyMs: number;
  readonly store: ClusterStore;
  readonly keeper: LeaseKeeper;
  readonly logger: Logger;
  /** True while the node runs (rounds do nothing otherwise). */
  running(): boolean;
  /** The shards the node serves now. */
  held(): ReadonlySet<number>;
  /** True while a shard of an earlier tenure is being handed over or drained. */
  draining(shard: number): boolean;
  /** The lease key of a shard. */
  leaseKey(shard: number): string;
  /** A shard was acquired: start serving it. */
  acquired(shard: number, lease: Lease): void;
  /** Hand a shard over to its desired owner. */
  handOver(shard: number): void;
}

/**
 * Heartbeats and rebalancing rounds of one node: every `everyMs` (or soon after a hint) it reads the live
 * members, waits for `minMembers` on a cold start, releases the shards another member should own (a
 * capped number per round) and tries to acquire the free shards it should own. One round at a time, and
 * rounds asked for by hints at least {@link MIN_ROUND_GAP_MS} (or `everyMs`, if shorter) apart; a hint never
 * postpones a round already due sooner.
 */
export class Rebalancer {
  readonly #host: RebalanceHost;
  #coldStarted = false;
  #round: Promise<void> | undefined;
  #again = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending timer fires (`performance.now()` time); meaningful while `#timer` is set. */
  #dueAt = 0;
  /** When the last round ended (`performance.now()` time). */
  #endedAt = Number.NEGATIVE_INFINITY;
  #heartbeats: ReturnType<typeof setInterval> | undefined;

  constructor(host: RebalanceHost) {
    this.#host = host;
  }

  /** Starts heartbeating (every third of the member TTL) and the rounds; resolves after the first round. */
  start(): Promise<void> {
    const heartbeatMs = Math.max(100, Math.floor(this.#host.store.memberTtlMs / 3));
    this.#heartbeats = setInterval(() => this.#heartbeat(), heartbeatMs);
    return this.run();
  }

  /** Stops heartbeats and rounds; resolves once a round under way has finished. */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeats);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round?.catch(() => {});
  }

  /**
   * Runs a round in `delayMs` (a hint that ownership changed), but no sooner than the minimum gap after the
   * last round, and no later than a round already due; during a round, once more after it.
   */
  schedule(delayMs: number): void {
    if (!this.#host.running()) return;
    if (this.#round !== undefined) {
      this.#again = true;
      return;
    }
    const now = performance.now();
    const gapMs = Math.min(MIN_ROUND_GAP_MS, this.#host.everyMs);
    const dueAt = Math.max(now + delayMs, this.#endedAt + gapMs);
    if (this.#timer !== undefined && this.#dueAt <= dueAt) return;
    this.#clearTimer();
    this.#dueAt = dueAt;
    this.#timer = setTimeout(() => void this.run(), dueAt - now);
  }

  /** Runs a round now (or right after the one under way). */
  run(): Promise<void> {
    if (this.#round !== undefined) {
      this.#again = true;
      return this.#round;
    }
    this.#clearTimer();
    this.#round = this.#rebalance()
      .catch((err: unknown) =>
        this.#host.logger.warn("cluster rebalancing round failed", { error: String(err) }),
      )
      .finally(() => {
        this.#round = undefined;
        this.#endedAt = performance.now();
        const again = this.#again;
        this.#again = false;
        this.schedule(again ? 0 : this.#host.everyMs);
      });
    return this.#round;
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #rebalance(): Promise<void> {
    const host = this.#host;
    if (!host.running()) return;
    const members = [...new Set(await this.#members())];
    if (!this.#coldStarted) {
      if (members.length < host.minMembers) return;
      this.#coldStarted = true;
    }
    const held = host.held();
    const plan = planRebalance(
      host.nodeId,
      members,
      host.typeName,
      host.shardCount,
      held,
      host.maxMoveFraction,
    );
    for (const shard of plan.release) host.handOver(shard);
    const wanted = plan.acquire.filter((shard) => !host.draining(shard));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < wanted.length && host.running()) {
        const shard = wanted[next++]!;
        const lease = await host.keeper.tryAcquire(host.leaseKey(shard)).catch((err: unknown) => {
          host.logger.warn("cannot acquire a shard lease", { shard, error: String(err) });
          return undefined;
        });
        if (lease === undefined || host.held().has(shard)) continue;
        if (host.running()) host.acquired(shard, lease);
        else await lease.release().catch(() => {});
      }
    };
    await Promise.all(Array.from({ length: Math.min(ACQUIRE_CONCURRENCY, wanted.length) }, worker));
  }

  /**
   * The live members, or a rejection when the store has not answered within max(2 s, 5 rounds): a store
   * call that never settles must not stop every later round (listing members has no side effect, so a
   * late answer is simply dropped).
   */
  #members(): Promise<string[]> {
    const host = this.#host;
    const limitMs = Math.max(2_000, 5 * host.everyMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the cluster store did not list members within ${limitMs} ms`)),
        limitMs,
      );
    });
    return Promise.race([host.store.members(host.cluster, host.typeName), late]).finally(() =>
      clearTimeout(timer),
    );
  }

  #heartbeat(): void {
    const host = this.#host;
    if (!host.running()) return;
    host.store.heartbeat(host.cluster, host.typeName, host.nodeId).catch((err: unknown) => {
      host.logger.warn("cluster heartbeat failed", { error: String(err) });
    });
  }
}
