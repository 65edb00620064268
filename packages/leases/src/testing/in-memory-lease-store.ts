import {
  validateLeaseGrant,
  validateLeaseGrants,
  validateLeaseKey,
  validateLeaseOwner,
  validateTtlMs,
} from "../lease-key.js";
import type { LeaseGrant, LeaseHolder, LeaseStore } from "../lease-store.js";
import { ReleaseWaiters } from "../release-waiters.js";

/** Options of {@link InMemoryLeaseStore}. */
export interface InMemoryLeaseStoreOptions {
  /** How long a grant or renewal lasts, in milliseconds. Default 5,000. */
  readonly ttlMs?: number | undefined;
  /**
   * The store's ("server's") clock in milliseconds; default `performance.now()`. Inject one to expire leases
   * without waiting: `let t = 0; new InMemoryLeaseStore({ now: () => t }); t += 6_000;`.
   */
  readonly now?: (() => number) | undefined;
}

interface Row {
  owner: string;
  epoch: number;
  revision: number;
  expiresAt: number;
}

/**
 * A {@link LeaseStore} in this process's memory, for tests of code that uses leases. Expiry follows the
 * injected clock, so a test can expire a lease by advancing it. Passes the lease store contract suite.
 * @example
 * let now = 0;
 * const store = new InMemoryLeaseStore({ ttlMs: 1_000, now: () => now });
 * const a = await store.tryAcquire("projection.totals", "A");
 * now += 1_000; // expired on the store's clock
 * const b = await store.tryAcquire("projection.totals", "B"); // b.epoch > a.epoch
 */
export class InMemoryLeaseStore implements LeaseStore {
  readonly ttlMs: number;
  readonly #now: () => number;
  readonly #rows = new Map<string, Row>();
  readonly #waiters = new ReleaseWaiters();
  #revision = 0;

  constructor(options: InMemoryLeaseStoreOptions = {}) {
    const ttlMs = options.ttlMs ?? 5_000;
    validateTtlMs(ttlMs, "InMemoryLeaseStoreOptions");
    this.ttlMs = ttlMs;
    this.#now = options.now ?? (() => performance.now());
  }

  async tryAcquire(key: string, owner: string): Promise<LeaseGrant | undefined> {
    validateLeaseKey(key);
    validateLeaseOwner(owner);
    const sentAt = process.hrtime.bigint();
    const now = this.#now();
    const row = this.#rows.get(key);
    if (row !== undefined && row.expiresAt > now) return undefined;
    // Rows are kept after expiry and release, so the next epoch still exceeds every earlier one.
    const next: Row = {
      owner,
      epoch: (row?.epoch ?? 0) + 1,
      revision: ++this.#revision,
      expiresAt: now + this.ttlMs,
    };
    this.#rows.set(key, next);
    return this.#grant(key, next, sentAt);
  }

  async renew(grant: LeaseGrant): Promise<LeaseGrant | undefined> {
    validateLeaseGrant(grant);
    return this.#renew(grant, process.hrtime.bigint());
  }

  async renewMany(grants: readonly LeaseGrant[]): Promise<(LeaseGrant | undefined)[]> {
    validateLeaseGrants(grants);
    const sentAt = process.hrtime.bigint();
    return grants.map((grant) => this.#renew(grant, sentAt));
  }

  async release(grant: LeaseGrant): Promise<boolean> {
    validateLeaseGrant(grant);
    const row = this.#live(grant);
    if (row === undefined) return false;
    row.expiresAt = this.#now();
    row.revision = ++this.#revision;
    this.#waiters.wake(grant.key);
    return true;
  }

  async holder(key: string): Promise<LeaseHolder | undefined> {
    validateLeaseKey(key);
    const row = this.#rows.get(key);
    if (row === undefined || row.expiresAt <= this.#now()) return undefined;
    return { key, owner: row.owner, epoch: row.epoch };
  }

  waitForRelease(key: string, signal: AbortSignal): Promise<void> {
    return this.#waiters.wait(key, signal);
  }

  #renew(grant: LeaseGrant, sentAt: bigint): LeaseGrant | undefined {
    const row = this.#live(grant);
    if (row === undefined) return undefined;
    row.expiresAt = this.#now() + this.ttlMs;
    row.revision = ++this.#revision;
    return this.#grant(grant.key, row, sentAt);
  }

  /** The row of `grant`'s tenure if it is still unexpired. */
  #live(grant: LeaseGrant): Row | undefined {
    const row = this.#rows.get(grant.key);
    if (row === undefined || row.owner !== grant.owner || row.epoch !== grant.epoch) return undefined;
    return row.expiresAt > this.#now() ? row : undefined;
  }

  #grant(key: string, row: Row, sentAt: bigint): LeaseGrant {
    return { key, owner: row.owner, epoch: row.epoch, sentAt, ttlMs: this.ttlMs, revision: row.revision };
  }
}
