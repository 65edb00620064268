import { ConnectionError, EventSourcedError } from "@eventsourced/core";
import {
  closeTimeoutOption,
  connectNats,
  describeServers,
  drainOrClose,
  type NatsConnectOptions,
  reason,
  serverList,
} from "@eventsourced/evtlog-nats/internal";
import { type KV, type KvEntry, KvWatchInclude } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  validateLeaseGrant,
  validateLeaseGrants,
  validateLeaseKey,
  validateLeaseOwner,
} from "../lease-key.js";
import type { LeaseGrant, LeaseHolder, LeaseStore } from "../lease-store.js";
import { LeaseStoreError } from "../lease-store-error.js";
import { ReleaseWaiters } from "../release-waiters.js";
import { UnknownAcquires } from "../unknown-acquires.js";
import { isRevision, isWrongLastSequence } from "./kv-errors.js";
import { currentEpochBase, openLeaseBucket, resolveBucketOptions } from "./lease-bucket.js";
import { decodeLeaseValue, encodeLeaseValue } from "./lease-value.js";

/** Options of {@link NatsLeaseStore.create}. */
export interface NatsLeaseStoreOptions extends Omit<NatsConnectOptions, "name"> {
  /** An existing connection to use. It stays open when the store closes. */
  readonly connection?: NatsConnection | undefined;
  /** How long a grant or renewal lasts: the bucket's `max_age`, in milliseconds. Default 5,000. */
  readonly ttlMs?: number | undefined;
  /**
   * KV bucket name (letters, digits, `_`, `-`); default `eventsourced-leases-<ttlMs>ms`. The TTL belongs to
   * the bucket, so one bucket serves one TTL: opening a bucket whose TTL differs is refused.
   */
  readonly bucket?: string | undefined;
  /** Replicas of a bucket we create; default 1. */
  readonly replicas?: number | undefined;
  /**
   * NATS >= 2.11 only: keep a delete marker for this long when a lease expires, so waiting acquirers see
   * the expiry at once instead of at their next poll. Refused on older servers (2.9 drops it silently).
   */
  readonly markerTtlMs?: number | undefined;
  /** Timeout of each KV request; default TTL / 2, between 1,000 and 5,000 ms. */
  readonly timeoutMs?: number | undefined;
  /**
   * How long `close()` waits for the drain of a connection the store opened; default 5,000 ms. Then the
   * connection is closed at once: a server that is away (or a partition) cannot keep a stopping process from
   * exiting.
   */
  readonly closeTimeoutMs?: number | undefined;
}

/**
 * Leases as keys of a NATS KV bucket whose `max_age` is the TTL, so they expire on the server's clock.
 * Acquire = `create` (exclusive), renew = `update` at the last revision, release = `delete` at the last
 * revision. The epoch is the bucket's epoch base (its stream's creation time on the server, in
 * microseconds) plus the revision of the acquiring write (a stream sequence: every takeover's is greater),
 * so epochs keep growing when the bucket is deleted and recreated, below no epoch marker already written
 * (ADR 0136).
 *
 * NATS 2.9 has no per-key TTL and reports no expiry to watchers: a waiting acquirer notices an expired
 * lease by polling, and a released one through a watch on the bucket ({@link waitForRelease}).
 * @example
 * const store = await NatsLeaseStore.create({ servers: "nats://127.0.0.1:4222", ttlMs: 5_000 });
 * const lease = await new LeaseKeeper(store).acquire("projection.totals");
 */
export class NatsLeaseStore implements LeaseStore {
  readonly ttlMs: number;
  /** The bucket's name. */
  readonly bucket: string;
  readonly #nc: NatsConnection;
  readonly #ownsConnection: boolean;
  readonly #closeTimeoutMs: number;
  readonly #kv: KV;
  /** The bucket's epoch base (ADR 0136): an epoch is the base plus the revision of the acquiring write. */
  #epochBase: number;
  readonly #waiters = new ReleaseWaiters();
  /** Acquires whose outcome is unknown: the owner's next acquire of the key may take its own entry over. */
  readonly #unknownAcquires: UnknownAcquires;
  /**
   * The last write of each key made through this store: a grant that matches it in revision, owner and
   * epoch can be written at its revision directly. Any other grant is first checked against the stored
   * entry, since a compare-and-set on the revision alone would let a grant with a foreign owner or epoch
   * but the right revision renew (and take) someone else's lease.
   */
  readonly #written = new Map<string, { revision: number; owner: string; epoch: number }>();
  #watch: { stop(): void } | undefined;
  #watching = false;
  #closed = false;

  private constructor(
    ttlMs: number,
    bucket: string,
    nc: NatsConnection,
    ownsConnection: boolean,
    closeTimeoutMs: number,
    kv: KV,
    epochBase: number,
  ) {
    this.ttlMs = ttlMs;
    this.#unknownAcquires = new UnknownAcquires(ttlMs);
    this.#epochBase = epochBase;
    this.bucket = bucket;
    this.#nc = nc;
    this.#ownsConnection = ownsConnection;
    this.#closeTimeoutMs = closeTimeoutMs;
    this.#kv = kv;
  }

  /**
   * Connects (unless `options.connection` is given) and opens the bucket, creating it when missing.
   * Rejects with `ConfigurationError` for invalid options, a bucket whose stored settings differ from the
   * ones asked for, or a setting the server would silently ignore; with `ConnectionError` (no secrets) when
   * the server is unreachable or has no JetStream.
   */
  static async create(options: NatsLeaseStoreOptions = {}): Promise<NatsLeaseStore> {
    const bucket = resolveBucketOptions(options);
    const closeTimeoutMs = closeTimeoutOption(options.closeTimeoutMs, "NatsLeaseStoreOptions");
    const ownsConnection = options.connection === undefined;
    const nc = options.connection ?? (await connectNats({ ...options, name: "eventsourced-leases" }));
    const target = ownsConnection ? describeServers(serverList(options.servers)) : nc.getServer();
    try {
      const { kv, epochBase } = await openLeaseBucket(nc, bucket);
      return new NatsLeaseStore(bucket.ttlMs, bucket.name, nc, ownsConnection, closeTimeoutMs, kv, epochBase);
    } catch (err) {
      if (ownsConnection) await nc.close().catch(() => {});
      if (err instanceof EventSourcedError) throw err;
      if (err instanceof Error && err.name === "JetStreamNotEnabled") {
        throw new ConnectionError(`JetStream is not enabled on the NATS server at ${target}`, target, {
          cause: err,
        });
      }
      throw new ConnectionError(
        `cannot open KV bucket ${JSON.stringify(bucket.name)} on NATS at ${target}: ${reason(err)}`,
        target,
        { cause: err },
      );
    }
  }

  async tryAcquire(key: string, owner: string): Promise<LeaseGrant | undefined> {
    validateLeaseKey(key);
    validateLeaseOwner(owner);
    for (let attempt = 0; ; attempt++) {
      const base = this.#epochBase;
      const written = await this.#acquiringWrite(key, owner, base);
      if (written === undefined) return undefined;
      const { revision, sentAt } = written;
      // Another process may have deleted and recreated the bucket since this store read its base: its
      // revisions restarted, and `base + revision` could be below epochs the old bucket granted. Read the
      // base again after every acquiring write (one round trip per tenure, ADR 0136). The check only
      // guards that case: if it fails (a JetStream API request, slower under load than a publish), the
      // grant stands under the base read before; a base that was in fact stale gives an epoch below the
      // old ones, which fenced logs refuse (safe), and the next acquire checks again.
      const current = await currentEpochBase(this.#kv).catch(() => base);
      if (current === base) {
        const epoch = base + revision;
        this.#written.set(key, { revision, owner, epoch });
        return { key, owner, epoch, sentAt, ttlMs: this.ttlMs, revision };
      }
      // The write went to the recreated bucket under the old base (or to the old bucket, gone with it).
      // Take it back if it is still ours, then try once more under the new base.
      this.#epochBase = current;
      this.#written.delete(key);
      await this.#takeBack(key, owner, base + revision).catch(() => {});
      if (attempt > 0) return undefined;
    }
  }

  /**
   * Writes `{owner, base}` as a new tenure of `key`: a `create`, which also succeeds over a delete marker (a
   * released lease), at the marker's revision. `undefined` when the key is held. After an acquire of this
   * owner whose outcome is unknown, a key held by this owner is taken over instead, with an update at the
   * entry's revision: the lost acquire may have landed, and nobody holds that entry (ADR 0148).
   */
  async #acquiringWrite(
    key: string,
    owner: string,
    base: number,
  ): Promise<{ revision: number; sentAt: bigint } | undefined> {
    const value = encodeLeaseValue({ owner, base });
    let sentAt = process.hrtime.bigint();
    try {
      let revision: number;
      try {
        revision = await this.#kv.create(key, value);
      } catch (err) {
        if (!isWrongLastSequence(err) || !this.#unknownAcquires.has(key, owner)) throw err;
        const entry = await this.#kv.get(key);
        if (entry === null || entry.operation !== "PUT") return undefined;
        if (decodeLeaseValue(entry.value, entry.revision)?.owner !== owner) return undefined;
        sentAt = process.hrtime.bigint();
        revision = await this.#kv.update(key, value, entry.revision);
      }
      this.#unknownAcquires.delete(key, owner);
      return { revision, sentAt };
    } catch (err) {
      if (isWrongLastSequence(err)) return undefined;
      // Lost with its connection or timed out: the write may have landed (or not).
      this.#unknownAcquires.add(key, owner, sentAt);
      throw this.#failure("acquire", key, err);
    }
  }

  async renew(grant: LeaseGrant): Promise<LeaseGrant | undefined> {
    validateLeaseGrant(grant);
    try {
      return await this.#renew(grant);
    } catch (err) {
      throw this.#failure("renew", grant.key, err);
    }
  }

  async renewMany(grants: readonly LeaseGrant[]): Promise<(LeaseGrant | undefined)[]> {
    validateLeaseGrants(grants);
    // KV has no multi-key write: the updates are pipelined on the connection, so this still costs about
    // one round trip.
    const settled = await Promise.allSettled(grants.map((grant) => this.#renew(grant)));
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed.length > 0) {
      throw this.#failure("renew", `${failed.length} of ${grants.length} leases, e.g.`, failed[0]!.reason);
    }
    return settled.map((s) => (s as PromiseFulfilledResult<LeaseGrant | undefined>).value);
  }

  async release(grant: LeaseGrant): Promise<boolean> {
    validateLeaseGrant(grant);
    // nats.js drops a `previousSeq` of 0, which would make the delete unconditional.
    if (!isRevision(grant.revision)) return false;
    try {
      let revision = this.#wroteAt(grant) ? grant.revision : await this.#tenureRevision(grant);
      for (let attempt = 0; revision !== undefined && attempt < 2; attempt++) {
        try {
          await this.#kv.delete(grant.key, { previousSeq: revision });
          this.#written.delete(grant.key);
          return true;
        } catch (err) {
          if (!isWrongLastSequence(err)) throw err;
        }
        const current = await this.#tenureRevision(grant);
        revision = current === revision ? undefined : current;
      }
      return false;
    } catch (err) {
      throw this.#failure("release", grant.key, err);
    }
  }

  async holder(key: string): Promise<LeaseHolder | undefined> {
    validateLeaseKey(key);
    let entry: KvEntry | null;
    try {
      entry = await this.#kv.get(key);
    } catch (err) {
      throw this.#failure("read", key, err);
    }
    if (entry === null || entry.operation !== "PUT") return undefined;
    const value = decodeLeaseValue(entry.value, entry.revision);
    return { key, owner: value?.owner ?? "(unreadable)", epoch: value?.epoch ?? entry.revision };
  }

  /**
   * Resolves when a delete of `key` (a graceful release) is seen on the bucket, or when `signal` aborts.
   * One watch per store serves every waiter. Expiry by `max_age` produces no event on NATS 2.9: pollers
   * still find expired leases by trying.
   */
  waitForRelease(key: string, signal: AbortSignal): Promise<void> {
    const waiting = this.#waiters.wait(key, signal);
    if (!this.#watching && !this.#closed) void this.#startWatch();
    return waiting;
  }

  /**
   * Stops the watch and closes the connection if this store opened it (drained, or closed at once when the
   * server does not answer within `closeTimeoutMs`); a connection passed in stays open.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#watch?.stop();
    this.#waiters.wakeAll();
    if (this.#ownsConnection) await drainOrClose(this.#nc, this.#closeTimeoutMs);
  }

  async #renew(grant: LeaseGrant): Promise<LeaseGrant | undefined> {
    if (!isRevision(grant.revision)) return undefined;
    const value = encodeLeaseValue({ owner: grant.owner, epoch: grant.epoch });
    let revision = this.#wroteAt(grant) ? grant.revision : await this.#tenureRevision(grant);
    for (let attempt = 0; revision !== undefined && attempt < 2; attempt++) {
      const sentAt = process.hrtime.bigint();
      try {
        const next = await this.#kv.update(grant.key, value, revision);
        this.#written.set(grant.key, { revision: next, owner: grant.owner, epoch: grant.epoch });
        return { ...grant, sentAt, ttlMs: this.ttlMs, revision: next };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
      // The entry moved on. It is still this tenure if it names our owner and epoch: an earlier renewal of
      // ours landed although its reply was lost (a timeout). Then write again at its revision.
      const current = await this.#tenureRevision(grant);
      revision = current === revision ? undefined : current;
    }
    return undefined;
  }

  /** Whether this store's last write of the key is exactly `grant` (so the revision stands for owner and epoch). */
  #wroteAt(grant: LeaseGrant): boolean {
    const written = this.#written.get(grant.key);
    return (
      written !== undefined &&
      written.revision === grant.revision &&
      written.owner === grant.owner &&
      written.epoch === grant.epoch
    );
  }

  /**
   * Deletes the key's entry if it is this acquiring write of `owner` under the old epoch base (`epoch` =
   * old base + its revision), never another. Its revision alone does not say so: the write may have gone to
   * the old bucket, and revisions restart at 1 in the new one, where another process's lease of the key can
   * have the same revision (ADR 0149). The delete is conditional on the revision read: in one bucket that
   * revision is this entry.
   */
  async #takeBack(key: string, owner: string, epoch: number): Promise<void> {
    const revision = await this.#tenureRevision({ key, owner, epoch });
    if (revision !== undefined) await this.#kv.delete(key, { previousSeq: revision });
  }

  /** The revision of the key's entry if it is still `grant`'s tenure (its owner and epoch). */
  async #tenureRevision(grant: LeaseHolder): Promise<number | undefined> {
    const entry = await this.#kv.get(grant.key);
    if (entry === null || entry.operation !== "PUT") return undefined;
    const value = decodeLeaseValue(entry.value, entry.revision);
    return value?.owner === grant.owner && value.epoch === grant.epoch ? entry.revision : undefined;
  }

  async #startWatch(): Promise<void> {
    this.#watching = true;
    try {
      const watch = await this.#kv.watch({ key: ">", include: KvWatchInclude.UpdatesOnly });
      this.#watch = watch;
      if (this.#closed) watch.stop();
      for await (const entry of watch) {
        if (entry.operation === "DEL" || entry.operation === "PURGE") this.#waiters.wake(entry.key);
      }
    } catch {
      // Waiters fall back to polling; the next wait starts a new watch.
    } finally {
      this.#watch = undefined;
      this.#watching = false;
    }
  }

  #failure(what: string, key: string, cause: unknown): LeaseStoreError {
    return new LeaseStoreError(
      `cannot ${what} lease ${JSON.stringify(key)} in NATS KV bucket ${JSON.stringify(this.bucket)}: ${reason(cause)}`,
      { cause },
    );
  }
}
