import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  Backoff,
  consoleLogger,
  guardInstrumentation,
  type Instrumentation,
  InvalidArgumentError,
  type Logger,
  linkSignals,
  warnOnHookFailure,
} from "@eventsourced/core";
import { HeldLease, type LeaseHost } from "./held-lease.js";
import { keeperTiming, validateKeeperArguments } from "./keeper-timing.js";
import type { Lease, LeaseEnd, LeaseEndReason } from "./lease.js";
import { LeaseKeeperClosedError } from "./lease-keeper-closed-error.js";
import { validateLeaseKey, validateLeaseOwner } from "./lease-key.js";
import type { LeaseLogEntry } from "./lease-log-entry.js";
import type { LeaseGrant, LeaseStore } from "./lease-store.js";
import { sleepUnlessReleased } from "./sleep-unless-released.js";

/** Options of {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  /** This keeper's owner id; default `<hostname>:<pid>:<random>`, unique per process incarnation. */
  readonly owner?: string | undefined;
  /** Safety margin subtracted from the TTL for the local deadline; default max(250 ms, TTL / 10). */
  readonly marginMs?: number | undefined;
  /** Renewal period; default TTL / 3. Must leave time before the deadline. */
  readonly renewEveryMs?: number | undefined;
  /** Acquisition poll period (each wait drawn from [pollMs / 2, pollMs]); default 500 ms. */
  readonly pollMs?: number | undefined;
  /** Called when a lease is acquired. */
  readonly onAcquired?: ((lease: Lease) => void) | undefined;
  /** Called exactly once per lost lease (deadline passed or renewal refused); not on release. */
  readonly onLost?: ((lease: Lease, reason: Exclude<LeaseEndReason, "released">) => void) | undefined;
  /** Every acquisition, renewal and end with monotonic times, for checking that tenures never overlap. */
  readonly onLog?: ((entry: LeaseLogEntry) => void) | undefined;
  /** Renewal and acquisition failures are logged here as warnings; default `consoleLogger`. */
  readonly logger?: Logger | undefined;
  /** Told of every lease acquired, released and lost (`Instrumentation.lease`); default none. */
  readonly instrumentation?: Instrumentation | undefined;
}

/** Options of {@link LeaseKeeper.acquire}. */
export interface AcquireOptions {
  /** Gives up waiting: `acquire` rejects with the signal's reason and holds nothing. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Holds leases of one {@link LeaseStore} for one owner: acquires keys (waiting by polling with jitter and
 * waking early on observed releases), renews every held lease together every `renewEveryMs` in one
 * `renewMany`, and ends each lease locally at its deadline = renewal send time + TTL - margin on the
 * monotonic clock, calling `onLost` exactly once. One keeper serves one key (a projection) or hundreds
 * (a cluster's shards) alike.
 * @example
 * const keeper = new LeaseKeeper(store, { onLost: (lease) => stopProjection(lease.key) });
 * const lease = await keeper.acquire("projection.totals", { signal });
 * while (lease.isValid()) await runOneBatch(lease.epoch);
 */
export class LeaseKeeper {
  readonly store: LeaseStore;
  readonly owner: string;
  readonly ttlMs: number;
  readonly marginMs: number;
  readonly renewEveryMs: number;
  readonly pollMs: number;
  readonly #options: LeaseKeeperOptions;
  readonly #logger: Logger;
  readonly #validityNs: bigint;
  readonly #leases = new Map<string, HeldLease>();
  readonly #acquiring = new Set<string>();
  readonly #closing = new AbortController();
  readonly #renewalErrors: Backoff;
  readonly #host: LeaseHost;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires (`performance.now()` time); meaningful while `#timer` is set. */
  #timerDueAt = 0;
  #renewing: Promise<void> | undefined;

  /**
   * Throws `InvalidArgumentError` when `store` is not a lease store or `options` not an object, and
   * `ConfigurationError` naming the option for bad timing (see {@link LeaseKeeperOptions}) or a hook that
   * is not a function; `InvalidArgumentError` for a bad `owner`.
   */
  constructor(store: LeaseStore, options: LeaseKeeperOptions = {}) {
    validateKeeperArguments(store, options);
    this.store = store;
    const logger = options.logger ?? consoleLogger;
    // A lease hook that throws must not leave the keeper's bookkeeping half done.
    this.#options =
      options.instrumentation === undefined
        ? options
        : {
            ...options,
            instrumentation: guardInstrumentation(options.instrumentation, warnOnHookFailure(logger)),
          };
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    validateLeaseOwner(this.owner);
    const timing = keeperTiming(store.ttlMs, options);
    this.ttlMs = store.ttlMs;
    this.marginMs = timing.marginMs;
    this.renewEveryMs = timing.renewEveryMs;
    this.pollMs = timing.pollMs;
    this.#logger = logger;
    this.#validityNs = BigInt(Math.floor((this.ttlMs - this.marginMs) * 1e6));
    this.#renewalErrors = new Backoff({
      initialMs: Math.min(100, this.renewEveryMs),
      maxMs: this.renewEveryMs,
    });
    this.#host = {
      deadlineOf: (grant) => grant.sentAt + this.#validityNs,
      ended: (lease, end) => this.#ended(lease, end),
      releaseAtStore: (grant) => this.#releaseAtStore(grant),
    };
  }

  /** The leases held now (valid ones), for health reports. */
  get held(): readonly Lease[] {
    return [...this.#leases.values()].filter((lease) => lease.isValid());
  }

  /**
   * Resolves with the lease on `key` once this keeper holds it, trying every `pollMs` (jittered) and at once
   * when a release of the key is observed. Store failures are logged and retried with backoff. Resolves
   * at once with the lease already held on `key`, if valid. Rejects with `InvalidArgumentError` for a key
   * breaking the key rules, options that are not an object or a `signal` that is not an `AbortSignal`.
   */
  async acquire(key: string, options: AcquireOptions = {}): Promise<Lease> {
    validateLeaseKey(key);
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError(`acquire options must be an object, got ${String(options)}`);
    }
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw new InvalidArgumentError("acquire: signal must be an AbortSignal");
    }
    const held = this.#leases.get(key);
    if (held?.isValid()) return held;
    if (this.#acquiring.has(key)) {
      throw new InvalidArgumentError(`lease ${JSON.stringify(key)} is already being acquired by this keeper`);
    }
    // Not `AbortSignal.any`: on Node 20 each call would leave an entry on both signals for as long as they live.
    const linked = linkSignals([options.signal, this.#closing.signal]);
    const signal = linked.signal;
    const polls = new Backoff({ initialMs: this.pollMs, maxMs: this.pollMs });
    const failures = new Backoff({ initialMs: this.pollMs, maxMs: Math.max(this.pollMs, 5_000) });
    this.#acquiring.add(key);
    try {
      for (;;) {
        this.#throwIfAborted(key, signal);
        let lease: HeldLease | undefined;
        try {
          lease = await this.#attempt(key);
          failures.reset();
        } catch (err) {
          if (err instanceof InvalidArgumentError) throw err;
          this.#logger.warn("cannot acquire lease; retrying", { key, error: String(err) });
          await this.#wait(key, failures.next(), signal, false);
          continue;
        }
        if (lease !== undefined) {
          if (!signal.aborted) return lease;
          await lease.release().catch(() => {});
          this.#throwIfAborted(key, signal);
        }
        await this.#wait(key, polls.next(), signal, true);
      }
    } finally {
      this.#acquiring.delete(key);
      linked.dispose();
    }
  }

  /** One attempt: the lease if the key was free or expired, `undefined` if someone holds it. */
  async tryAcquire(key: string): Promise<Lease | undefined> {
    validateLeaseKey(key);
    const held = this.#leases.get(key);
    if (held?.isValid()) return held;
    this.#throwIfAborted(key, this.#closing.signal);
    return this.#attempt(key);
  }

  /** The valid lease this keeper holds on `key`, if any. */
  lease(key: string): Lease | undefined {
    const held = this.#leases.get(key);
    return held?.isValid() ? held : undefined;
  }

  /** Every valid lease this keeper holds. */
  get leases(): readonly Lease[] {
    return [...this.#leases.values()].filter((lease) => lease.isValid());
  }

  /**
   * Stops acquiring and renewing and releases every lease at the store (failures are ignored: those leases
   * expire); acquisitions in progress reject with `LeaseKeeperClosedError`.
   */
  async close(): Promise<void> {
    this.#closing.abort();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([...this.#leases.values()].map((lease) => lease.release()));
  }

  async #attempt(key: string): Promise<HeldLease | undefined> {
    const grant = await this.store.tryAcquire(key, this.owner);
    if (grant === undefined) return undefined;
    const deadline = grant.sentAt + this.#validityNs;
    const now = process.hrtime.bigint();
    if (now >= deadline || this.#closing.signal.aborted) {
      // The reply came too late to be of use (a pause, a slow store), or we are closing: let it go.
      void this.store.release(grant).catch(() => {});
      return undefined;
    }
    this.#log({
      event: "acquired",
      key,
      owner: grant.owner,
      epoch: grant.epoch,
      at: now,
      validUntil: deadline,
    });
    const lease = new HeldLease(this.#host, grant, deadline);
    this.#leases.set(key, lease);
    // The first renewal is due `renewEveryMs` after the acquire was *sent*, as its validity counts from then:
    // counted from a slow reply it could come after the deadline (ADR 0153).
    this.#schedule(Math.max(0, this.renewEveryMs - Number(now - grant.sentAt) / 1e6));
    this.#options.instrumentation?.lease?.({ event: "acquired", key, epoch: grant.epoch });
    this.#call("onAcquired", () => this.#options.onAcquired?.(lease));
    return lease;
  }

  /** Renews every held lease in one `renewMany`; resolves with the delay until the next round. */
  async #renewAll(): Promise<number> {
    // Checking validity first ends the leases whose deadline passed (after a pause, say) before anything is sent.
    const due = [...this.#leases.values()].filter((lease) => lease.isValid());
    if (due.length === 0) return this.renewEveryMs;
    const started = process.hrtime.bigint();
    let results: (LeaseGrant | undefined)[];
    try {
      results = await this.store.renewMany(due.map((lease) => lease.grant));
    } catch (err) {
      this.#logger.warn("cannot renew leases; retrying", { count: due.length, error: String(err) });
      return this.#renewalErrors.next();
    }
    this.#renewalErrors.reset();
    for (const [i, lease] of due.entries()) {
      const deadline = lease.renewed(results[i]);
      if (deadline === undefined) continue;
      const { key, owner, epoch } = lease;
      this.#log({ event: "renewed", key, owner, epoch, at: process.hrtime.bigint(), validUntil: deadline });
      lease.extendTo(deadline);
    }
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    return Math.max(0, this.renewEveryMs - elapsedMs);
  }

  /**
   * Arms the renewal timer unless a round is running, or nothing is held; an armed timer is moved earlier
   * (never later) when the new round is due sooner.
   */
  #schedule(delayMs: number): void {
    if (this.#renewing !== undefined || this.#closing.signal.aborted) return;
    if (this.#leases.size === 0) return;
    const dueAt = performance.now() + delayMs;
    if (this.#timer !== undefined) {
      if (this.#timerDueAt <= dueAt) return;
      clearTimeout(this.#timer);
    }
    this.#timerDueAt = dueAt;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#renewing = this.#renewAll()
        .catch((err: unknown) => {
          this.#logger.error("lease renewal round failed", { error: String(err) });
          return this.renewEveryMs;
        })
        .then((nextMs) => {
          this.#renewing = undefined;
          this.#schedule(nextMs);
        });
    }, delayMs);
  }

  #ended(lease: HeldLease, end: LeaseEnd): void {
    if (this.#leases.get(lease.key) === lease) this.#leases.delete(lease.key);
    const { key, owner, epoch } = lease;
    this.#log({
      event: "ended",
      key,
      owner,
      epoch,
      at: end.at,
      validUntil: end.validUntil,
      reason: end.reason,
    });
    this.#options.instrumentation?.lease?.(
      end.reason === "released"
        ? { event: "released", key, epoch }
        : { event: "lost", key, epoch, reason: end.reason },
    );
    // A released lease is ended at the store by its release().
    if (end.reason === "released") return;
    const reason = end.reason;
    this.#call("onLost", () => this.#options.onLost?.(lease, reason));
    // The store may still see this tenure as live (a renewal that landed after a pause): free it for others.
    void this.#releaseAtStore(() => lease.grant).catch(() => {});
  }

  async #releaseAtStore(grant: () => LeaseGrant): Promise<void> {
    await this.#renewing?.catch(() => {});
    await this.store.release(grant());
  }

  /** Sleeps `ms`, or less when the store reports a release of `key` (if asked to) or the signal aborts. */
  #wait(key: string, ms: number, signal: AbortSignal, wakeOnRelease: boolean): Promise<void> {
    return sleepUnlessReleased(
      ms,
      signal,
      wakeOnRelease ? (s) => this.store.waitForRelease?.(key, s) : undefined,
    );
  }

  #throwIfAborted(key: string, signal: AbortSignal): void {
    if (this.#closing.signal.aborted) throw new LeaseKeeperClosedError(key);
    signal.throwIfAborted();
  }

  #log(entry: LeaseLogEntry): void {
    if (this.#options.onLog !== undefined) this.#call("onLog", () => this.#options.onLog?.(entry));
  }

  #call(what: string, callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.#logger.error(`LeaseKeeper ${what} callback threw`, { error: String(err) });
    }
  }
}
