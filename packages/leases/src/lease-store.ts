/** Who holds a key right now, as the store sees it. */
export interface LeaseHolder {
  /** The lease's name (see {@link validateLeaseKey}). */
  readonly key: string;
  /** Who holds it: an id unique to one process incarnation (see `LeaseKeeper`'s default). */
  readonly owner: string;
  /**
   * The fencing token: strictly greater than the epoch of every earlier tenure of `key`, unchanged by
   * renewals. A write checked against the epoch cannot come from an owner whose lease was taken over.
   */
  readonly epoch: number;
}

/** A lease this process holds, as granted or renewed by the store. Pass the latest one to `renew`/`release`. */
export interface LeaseGrant extends LeaseHolder {
  /**
   * `process.hrtime.bigint()` taken just before the request that granted or renewed this lease was sent.
   * The server stamped the expiry at its arrival, so the lease lasts at least `ttlMs` after this instant
   * on a clock that runs at the server's rate: a local validity deadline counts from here, never from the
   * reply.
   */
  readonly sentAt: bigint;
  /** The store's TTL when this grant was made, in milliseconds. */
  readonly ttlMs: number;
  /** The store's version of the lease record (the NATS KV revision); opaque, changes on renewal. */
  readonly revision: number;
}

/**
 * Time-bounded exclusive ownership of named keys. A lease expires on the SERVER's clock (the database's
 * `clock_timestamp()`, the NATS server's message age), never the client's: a client's wall clock may be
 * wrong by any amount without breaking exclusivity.
 *
 * - At most one unexpired lease exists per key. `tryAcquire` succeeds only on a free or expired key
 *   (also when the caller itself holds it: owners are incarnations, so an owner never re-adopts a lease).
 *   One exception: after a `tryAcquire` of the store rejected (its outcome unknown: it may have landed),
 *   the store's next `tryAcquire` of that key by that owner, within two TTLs, also takes over a live lease
 *   of that owner, under a new epoch, instead of waiting out a TTL that nobody holds (ADR 0148).
 * - Every successful `tryAcquire` starts a new tenure with an epoch greater than any before on that key.
 * - `renew` and `release` compare and set on owner AND epoch: they never touch a lease someone else holds,
 *   and an expired lease cannot be renewed, only acquired again under a new epoch.
 *
 * Infrastructure failures reject with `LeaseStoreError`; bad keys or owners with `InvalidArgumentError`.
 * The contract suite `describeLeaseStoreContract` (`@eventsourced/leases/testing/vitest`) proves an adapter.
 */
export interface LeaseStore {
  /** How long a grant or renewal lasts on the server, in milliseconds (fixed per store). */
  readonly ttlMs: number;

  /**
   * A new tenure of `key` for `owner`, or `undefined` while anyone (including `owner`) holds it. Rejects
   * with `LeaseStoreError` when the outcome is unknown; the next call with the same key and owner then
   * takes over `owner`'s own live lease of `key`, if the lost one landed (see above).
   */
  tryAcquire(key: string, owner: string): Promise<LeaseGrant | undefined>;

  /** Extends the lease by `ttlMs` from now on the server; `undefined` when it expired or is not this tenure. */
  renew(grant: LeaseGrant): Promise<LeaseGrant | undefined>;

  /**
   * `renew` for many leases at once (one round trip on PostgreSQL); results in the order of `grants`.
   * Keys must be distinct. Rejects with `LeaseStoreError` when the outcome of any renewal is unknown: the
   * leases keep their earlier grants' validity, so retrying with them is safe.
   */
  renewMany(grants: readonly LeaseGrant[]): Promise<(LeaseGrant | undefined)[]>;

  /** Ends the tenure now so others can acquire at once; `false` (a no-op) unless `grant` is the live tenure. */
  release(grant: LeaseGrant): Promise<boolean>;

  /** The current unexpired holder of `key`, for status displays; never a basis for acting. */
  holder(key: string): Promise<LeaseHolder | undefined>;

  /**
   * Optional: resolves when a release of `key` may have happened (or when `signal` aborts), so a waiting
   * acquirer can try again before its next poll. Never rejects. Expiry is not necessarily reported.
   */
  waitForRelease?(key: string, signal: AbortSignal): Promise<void>;
}
