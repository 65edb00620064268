import type { LeaseGrant, LeaseHolder, LeaseStore } from "@eventsourced/leases";

/**
 * A LeaseStore wrapper for one keeper whose renewals (and releases) can be made to fail, as if the store were
 * unreachable from that process, or to answer late; counts renewal rounds.
 */
export class ScriptedLeaseStore implements LeaseStore {
  readonly ttlMs: number;
  /** When set, every renewal and release rejects with this error. */
  unreachable: Error | undefined;
  /** When set, every acquisition rejects with this error. */
  acquisitionsFail: Error | undefined;
  /** Delay before a renewal's reply is handed back (the store has already applied it). */
  replyDelayMs = 0;
  /** Delay before an acquisition's reply is handed back (the store has already applied it). */
  acquireReplyDelayMs = 0;
  readonly renewalBatches: number[] = [];

  constructor(readonly inner: LeaseStore) {
    this.ttlMs = inner.ttlMs;
  }

  async tryAcquire(key: string, owner: string): Promise<LeaseGrant | undefined> {
    if (this.acquisitionsFail !== undefined) throw this.acquisitionsFail;
    const grant = await this.inner.tryAcquire(key, owner);
    if (this.acquireReplyDelayMs > 0)
      await new Promise((resolve) => setTimeout(resolve, this.acquireReplyDelayMs));
    return grant;
  }

  async renew(grant: LeaseGrant): Promise<LeaseGrant | undefined> {
    return (await this.renewMany([grant]))[0];
  }

  async renewMany(grants: readonly LeaseGrant[]): Promise<(LeaseGrant | undefined)[]> {
    this.renewalBatches.push(grants.length);
    if (this.unreachable !== undefined) throw this.unreachable;
    const results = await this.inner.renewMany(grants);
    if (this.replyDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.replyDelayMs));
    return results;
  }

  async release(grant: LeaseGrant): Promise<boolean> {
    if (this.unreachable !== undefined) throw this.unreachable;
    return this.inner.release(grant);
  }

  holder(key: string): Promise<LeaseHolder | undefined> {
    return this.inner.holder(key);
  }

  waitForRelease(key: string, signal: AbortSignal): Promise<void> {
    return this.inner.waitForRelease?.(key, signal) ?? new Promise(() => {});
  }
}
