import type { LeaseGrant, LeaseStoreLike } from "../lease.js";

interface Held {
  readonly owner: string;
  readonly epoch: number;
  expiresAt: number;
}

/**
 * Leases in memory, expiring on this process's monotonic clock: a stand-in for a server-side lease store in
 * unit tests (one process, several projection instances). `expire(key)` simulates a takeover.
 */
export class InMemoryLeaseStore implements LeaseStoreLike {
  readonly #leases = new Map<string, Held>();
  #epochs = new Map<string, number>();

  async tryAcquire(key: string, owner: string, ttlMs: number): Promise<LeaseGrant | undefined> {
    const held = this.#leases.get(key);
    if (held !== undefined && held.expiresAt > performance.now() && held.owner !== owner) return undefined;
    const epoch = (this.#epochs.get(key) ?? 0) + 1;
    this.#epochs.set(key, epoch);
    this.#leases.set(key, { owner, epoch, expiresAt: performance.now() + ttlMs });
    return { key, owner, epoch };
  }

  async renew(grant: LeaseGrant, ttlMs: number): Promise<LeaseGrant | undefined> {
    const held = this.#leases.get(grant.key);
    if (held === undefined || held.epoch !== grant.epoch || held.expiresAt <= performance.now())
      return undefined;
    held.expiresAt = performance.now() + ttlMs;
    return grant;
  }

  async release(grant: LeaseGrant): Promise<void> {
    const held = this.#leases.get(grant.key);
    if (held?.epoch === grant.epoch) this.#leases.delete(grant.key);
  }

  /** Lets the current grant of `key` expire now, as if its owner had stopped renewing for a whole TTL. */
  expire(key: string): void {
    const held = this.#leases.get(key);
    if (held !== undefined) held.expiresAt = 0;
  }

  /** The owner holding `key` right now, if any. */
  holder(key: string): string | undefined {
    const held = this.#leases.get(key);
    return held !== undefined && held.expiresAt > performance.now() ? held.owner : undefined;
  }
}
