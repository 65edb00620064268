import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "@eventsourced/core";
import { delay } from "./delay.js";

/**
 * A lease held by one owner, expiring on the store's clock. `epoch` grows with every grant of the key, so it
 * fences writes: the projection's checkpoint compare-and-set includes it.
 */
export interface LeaseGrant {
  readonly key: string;
  readonly owner: string;
  readonly epoch: number;
}

/**
 * The lease operations a projection needs; `@eventsourced/leases` stores (PostgreSQL row with
 * `clock_timestamp()` expiry, NATS KV with bucket TTL) satisfy it. Expiry must be decided by the server's
 * clock, never the caller's.
 */
export interface LeaseStoreLike {
  /** Grants the lease when it is free or expired (with a higher epoch than any before), else `undefined`. */
  tryAcquire(key: string, owner: string, ttlMs: number): Promise<LeaseGrant | undefined>;
  /** Extends a grant still held by its owner; `undefined` (or a throw) when it was lost. */
  renew(grant: LeaseGrant, ttlMs: number): Promise<LeaseGrant | undefined>;
  /** Gives the lease up early (only while `grant` still holds it). */
  release(grant: LeaseGrant): Promise<void>;
}

/** The lease a projection runs under: one active instance per projection name across processes. */
export interface ProjectionLeaseOptions {
  readonly store: LeaseStoreLike;
  /** Lease time to live. Default 5,000 ms: a crashed owner is replaced within `ttlMs + pollMs`. */
  readonly ttlMs?: number | undefined;
  /** How often a standby instance tries to acquire the lease. Default 500 ms. */
  readonly pollMs?: number | undefined;
  /** This instance's name in the lease; default host, pid and a random suffix. */
  readonly owner?: string | undefined;
}

/**
 * Acquires a lease, renews it every third of its TTL and keeps a local validity deadline on the monotonic
 * clock: renewal sent + TTL − margin. The lease counts as lost when a renewal is refused or the deadline
 * passes without a successful one (the process was paused, the store unreachable): `lost` aborts then.
 */
export class LeaseHolder {
  readonly #store: LeaseStoreLike;
  readonly #key: string;
  readonly owner: string;
  readonly ttlMs: number;
  readonly pollMs: number;
  readonly #logger: Logger;
  #grant: LeaseGrant | undefined;
  #deadline = 0;
  #lost = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(key: string, options: ProjectionLeaseOptions, logger: Logger) {
    this.#store = options.store;
    this.#key = key;
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.ttlMs = options.ttlMs ?? 5_000;
    this.pollMs = options.pollMs ?? 500;
    this.#logger = logger;
  }

  /** The current grant, if any. */
  get grant(): LeaseGrant | undefined {
    return this.#grant;
  }

  /** True while the grant is held and its local deadline has not passed. */
  get valid(): boolean {
    return this.#grant !== undefined && performance.now() < this.#deadline;
  }

  /** Aborts when the current grant is lost. */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  /** Tries every `pollMs` until granted; `undefined` when `signal` aborts first. */
  async acquire(signal: AbortSignal): Promise<LeaseGrant | undefined> {
    while (!signal.aborted) {
      const sentAt = performance.now();
      try {
        const grant = await this.#store.tryAcquire(this.#key, this.owner, this.ttlMs);
        if (grant !== undefined) {
          this.#hold(grant, sentAt);
          return grant;
        }
      } catch (err) {
        this.#logger.warn("projection lease: acquire failed; retrying", {
          key: this.#key,
          error: String(err),
        });
      }
      await delay(this.pollMs, signal);
    }
    return undefined;
  }

  /** Stops renewing and releases the grant (best effort: it expires anyway). */
  async release(): Promise<void> {
    clearTimeout(this.#timer);
    const grant = this.#grant;
    this.#grant = undefined;
    if (grant !== undefined) await this.#store.release(grant).catch(() => {});
  }

  #hold(grant: LeaseGrant, sentAt: number): void {
    this.#grant = grant;
    this.#lost = new AbortController();
    this.#deadline = sentAt + this.ttlMs - this.#margin();
    this.#schedule();
  }

  /** Leaves room for the store's and this process's clocks to differ in rate, and for the renewal's trip. */
  #margin(): number {
    return Math.min(1_000, this.ttlMs / 5);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const untilRenew = this.ttlMs / 3;
    const untilDeadline = this.#deadline - performance.now();
    this.#timer = setTimeout(() => void this.#tick(), Math.max(0, Math.min(untilRenew, untilDeadline)));
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    const grant = this.#grant;
    if (grant === undefined) return;
    if (performance.now() >= this.#deadline) return this.#lose("the lease's local deadline passed");
    const sentAt = performance.now();
    let renewed: LeaseGrant | undefined;
    try {
      renewed = await this.#store.renew(grant, this.ttlMs);
    } catch (err) {
      if (this.#grant !== grant) return;
      this.#logger.warn("projection lease: renewal failed; retrying", { key: this.#key, error: String(err) });
      if (performance.now() >= this.#deadline) return this.#lose("renewal failed until the deadline");
      this.#schedule();
      return;
    }
    if (this.#grant !== grant) return;
    if (renewed === undefined) return this.#lose("renewal refused: another owner holds it");
    this.#grant = renewed;
    this.#deadline = sentAt + this.ttlMs - this.#margin();
    this.#schedule();
  }

  #lose(reason: string): void {
    this.#logger.warn("projection lease lost", { key: this.#key, owner: this.owner, reason });
    clearTimeout(this.#timer);
    this.#grant = undefined;
    this.#lost.abort(new Error(`lease ${this.#key} lost: ${reason}`));
  }
}
