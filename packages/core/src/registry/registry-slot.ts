import type { HandleCmdOptions } from "../entity-ref.js";
import { follow } from "../linked-signal.js";
import type { CallerSignal } from "../pending-cmd.js";
import type { RecencyNode } from "./recency-list.js";

/**
 * Where the entity of one id is in the registry:
 * - `spawning`: waiting out a failure backoff, waiting for a place under the limit, or recovering; callers
 *   wait in the slot and are served, in arrival order, by the incarnation it spawns.
 * - `active`: `ref` serves commands; the slot is in the recency list.
 * - `stopping`: `ref` is passivating (it finishes its queued commands); callers arriving now wait in the
 *   slot for the stop, then the slot spawns the next incarnation for them.
 */
export type RegistryPhase = "spawning" | "active" | "stopping";

/** Marks a waiter that wants the ref itself (`get`) rather than to send a command. */
export const GET_REF: unique symbol = Symbol("get");

/** A caller waiting in a slot: a command to send, or a `get` waiting for the ref. */
export class SlotWaiter<T> {
  /** Set once the waiter was served or gave up: it is skipped from then on. */
  done = false;
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;
  #caller: CallerSignal | undefined;
  #unfollow: (() => void) | undefined;

  constructor(
    readonly cmd: unknown,
    /** What the command is handed to the entity with: the caller's signal stands for its `timeoutMs`. */
    readonly options: HandleCmdOptions | undefined,
    caller: CallerSignal | undefined,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#caller = caller;
    if (caller !== undefined) {
      // Shared with everything else that follows the same signal (no listener each: see `follow`). The
      // caller checked that it has not aborted yet.
      this.#unfollow = follow(caller.signal, () => {
        if (!this.done) this.reject(caller.signal.reason);
      });
    }
  }

  /** The waiter leaves the slot to be served: giving up while waiting in the slot is over. */
  take(): void {
    this.done = true;
    this.#unfollow?.();
    this.#unfollow = undefined;
  }

  resolve(value: T): void {
    this.take();
    this.#caller?.clear();
    this.#resolve(value);
  }

  reject(error: unknown): void {
    this.take();
    this.#caller?.clear();
    this.#reject(error);
  }
}

/**
 * The registry's record of one id: its phase, its incarnation and its place in the recency list. One
 * object per resident entity and nothing per passivated id; the recency links and the idle clock live in
 * it so that a resident entity costs the registry one object and one map entry.
 */
export class RegistrySlot<R> implements RecencyNode<RegistrySlot<R>> {
  phase: RegistryPhase = "spawning";
  /** The incarnation, while active or stopping. */
  ref: R | undefined = undefined;
  /** Callers waiting for the next incarnation, while spawning or stopping. */
  waiters: SlotWaiter<unknown>[] | undefined = undefined;
  /** When a command last went through the registry to the entity: int32 milliseconds (see `nowMs`). */
  touchedAt = 0;
  older: RegistrySlot<R> | undefined = undefined;
  newer: RegistrySlot<R> | undefined = undefined;

  constructor(readonly id: string) {}

  /** Adds a waiter for the next incarnation. */
  wait(waiter: SlotWaiter<unknown>): void {
    if (this.waiters === undefined) this.waiters = [waiter];
    else this.waiters.push(waiter);
  }

  /** Whether anybody still waits for the next incarnation. */
  hasWaiters(): boolean {
    return this.waiters?.some((w) => !w.done) ?? false;
  }

  /** Takes the waiters (those that have not given up), oldest first. */
  takeWaiters(): SlotWaiter<unknown>[] {
    const waiters = this.waiters;
    this.waiters = undefined;
    return waiters === undefined ? [] : waiters.filter((w) => !w.done);
  }

  /** spawning -> active. */
  activate(ref: R, now: number): void {
    this.phase = "active";
    this.ref = ref;
    this.touchedAt = now;
  }

  /** active -> stopping. */
  beginStop(): void {
    this.phase = "stopping";
  }

  /** stopping -> spawning: somebody waits for the next incarnation. */
  respawn(): void {
    this.phase = "spawning";
    this.ref = undefined;
  }
}

/**
 * A millisecond clock as a small integer: `performance.now()` wrapped to int32, so that it stays a small
 * integer in every slot however long the process runs. Compare two readings only through {@link elapsedMs}.
 */
export function nowMs(): number {
  return performance.now() | 0;
}

/** Milliseconds from `since` to `now` (two {@link nowMs} readings less than 24 days apart). */
export function elapsedMs(now: number, since: number): number {
  return (now - since) | 0;
}
