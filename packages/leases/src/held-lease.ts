import { InvalidArgumentError } from "@eventsourced/core";
import type { Lease, LeaseEnd, LeaseEndReason, LeaseStatus } from "./lease.js";
import type { LeaseGrant } from "./lease-store.js";

/** What a {@link HeldLease} needs from the keeper that holds it. */
export interface LeaseHost {
  /** Local validity of a grant: its send time + TTL - margin, in nanoseconds. */
  deadlineOf(grant: LeaseGrant): bigint;
  /** Called synchronously once, right after the lease ended (logging, callbacks, cleanup). */
  ended(lease: HeldLease, end: LeaseEnd): void;
  /** Ends the tenure at the store once no renewal of it is in flight. */
  releaseAtStore(grant: () => LeaseGrant): Promise<void>;
}

/** A tenure held by a `LeaseKeeper`: one state (held, then lost or released), one deadline timer. */
export class HeldLease implements Lease {
  readonly key: string;
  readonly owner: string;
  readonly epoch: number;
  readonly whenEnded: Promise<LeaseEnd>;
  readonly #host: LeaseHost;
  #grant: LeaseGrant;
  #deadline: bigint;
  #status: LeaseStatus = "held";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolveEnded!: (end: LeaseEnd) => void;

  constructor(host: LeaseHost, grant: LeaseGrant, deadline: bigint) {
    this.#host = host;
    this.key = grant.key;
    this.owner = grant.owner;
    this.epoch = grant.epoch;
    this.#grant = grant;
    this.#deadline = deadline;
    this.whenEnded = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    this.#arm();
  }

  get status(): LeaseStatus {
    this.#checkDeadline();
    return this.#status;
  }

  get validUntil(): bigint {
    return this.#deadline;
  }

  /** The latest grant, for renewals and the release. */
  get grant(): LeaseGrant {
    return this.#grant;
  }

  isValid(): boolean {
    return this.#checkDeadline();
  }

  validFor(ms: number): boolean {
    if (typeof ms !== "number" || Number.isNaN(ms)) {
      throw new InvalidArgumentError(`validFor needs a number of milliseconds, got ${String(ms)}`);
    }
    // No lease is valid for ever; valid "for minus ever" means valid now (and an infinity has no BigInt).
    if (!Number.isFinite(ms)) return ms < 0 && this.#checkDeadline();
    return this.#checkDeadline() && process.hrtime.bigint() + BigInt(Math.ceil(ms * 1e6)) < this.#deadline;
  }

  async release(): Promise<void> {
    if (!this.#checkDeadline()) return;
    this.#end("released", process.hrtime.bigint());
    await this.#host.releaseAtStore(() => this.#grant);
  }

  /**
   * Applies a renewal's outcome. The deadline is checked first: a lease whose deadline passed stays lost
   * even if the store extended it meanwhile (the keeper then releases it). Returns the new deadline, or
   * `undefined` when the lease did not stay held.
   */
  renewed(grant: LeaseGrant | undefined): bigint | undefined {
    if (grant !== undefined) this.#grant = grant; // also after a release, so it uses the newest revision
    if (!this.#checkDeadline()) return undefined;
    if (grant === undefined) {
      this.#end("renewal-refused", process.hrtime.bigint());
      return undefined;
    }
    return this.#host.deadlineOf(grant);
  }

  /** Moves the deadline (after the keeper logged it). */
  extendTo(deadline: bigint): void {
    if (this.#status !== "held" || deadline <= this.#deadline) return;
    this.#deadline = deadline;
    this.#arm();
  }

  /** True while held; ends the lease when the deadline has passed. */
  #checkDeadline(): boolean {
    if (this.#status !== "held") return false;
    const now = process.hrtime.bigint();
    if (now < this.#deadline) return true;
    this.#end("deadline-passed", now);
    return false;
  }

  #end(reason: LeaseEndReason, at: bigint): void {
    this.#status = reason === "released" ? "released" : "lost";
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const end: LeaseEnd = { reason, at, validUntil: reason === "deadline-passed" ? this.#deadline : at };
    this.#host.ended(this, end);
    this.#resolveEnded(end);
  }

  /** A timer at the deadline, so `onLost` fires even if nobody asks; it may fire late, never too early. */
  #arm(): void {
    clearTimeout(this.#timer);
    const remainingMs = Number(this.#deadline - process.hrtime.bigint()) / 1e6;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        if (this.#checkDeadline()) this.#arm(); // a timer rounded down to the millisecond fired early
      },
      Math.max(0, Math.ceil(remainingMs) + 1),
    );
  }
}
