import type { EvtLog } from "@eventsourced/core";
import type { Lease } from "@eventsourced/leases";
import type { TransportSubscription } from "./transport.js";

/** One tenure of a shard on this node: its lease, its fenced log, its subscription, its commands in flight. */
export class Tenure {
  readonly shard: number;
  readonly lease: Lease;
  readonly log: EvtLog;
  /** The log fences its own writes with this tenure's epoch (L2): a late write is refused once it moved. */
  readonly strict: boolean;
  subscription: TransportSubscription | undefined;
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #idlePromise: Promise<void> | undefined;

  constructor(shard: number, lease: Lease, log: EvtLog, strict: boolean) {
    this.shard = shard;
    this.lease = lease;
    this.log = log;
    this.strict = strict;
  }

  /** A command of this shard started. */
  began(): void {
    this.#inFlight++;
  }

  /** A command of this shard finished. */
  ended(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#idle !== undefined) {
      this.#idle();
      this.#idle = undefined;
      this.#idlePromise = undefined;
    }
  }

  /** Resolves once no command of this shard is in flight. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    this.#idlePromise ??= new Promise((resolve) => {
      this.#idle = resolve;
    });
    return this.#idlePromise;
  }
}
