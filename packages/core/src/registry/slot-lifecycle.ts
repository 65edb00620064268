import { type Deferred, deferred, sleep } from "../deferred.js";
import { type Prefetched, spawnWithConfig } from "../entity.js";
import type { EntityActor } from "../entity-actor.js";
import type { EntityConfig } from "../entity-config.js";
import type { DuplicateResult, HandleCmdOptions, IdempotentCmdOptions } from "../entity-ref.js";
import { EntityNotHostedError, RegistryClosedError } from "../errors/index.js";
import type { CmdResult, CmdSpec } from "../event-sourced.js";
import type { ActiveLimit } from "./active-limit.js";
import type { PoisonBackoff } from "./poison-backoff.js";
import { RecencyList } from "./recency-list.js";
import { elapsedMs, GET_REF, nowMs, RegistrySlot, type SlotWaiter } from "./registry-slot.js";
import type { PassivationReason } from "./registry-stats.js";

// biome-ignore lint/suspicious/noExplicitAny: the registry forwards any reply and rejection of its protocol
export type AnyResult = CmdResult<any, any> | DuplicateResult;
/** The options a command reaches the registry with. */
export type AnyOptions = HandleCmdOptions | IdempotentCmdOptions;
/** An incarnation, as the registry holds it. */
export type Actor = EntityActor<unknown, unknown, CmdSpec>;
/** The slot of one id. */
export type Slot = RegistrySlot<Actor>;
/** Why a slot stops: a passivation (counted by reason), or the registry closing or noticing a stopped entity. */
export type StopReason = PassivationReason | "close" | "noticed";

/** What the slots' lifecycle needs from its registry. */
export interface SlotLifecycleOptions<S, E, P extends CmdSpec> {
  readonly typeName: string;
  readonly config: EntityConfig<S, E, P>;
  readonly configFor: (id: string) => EntityConfig<S, E, P>;
  readonly canHost: ((id: string) => boolean) | undefined;
  readonly snapshotOnPassivate: boolean;
  readonly closing: AbortSignal;
  readonly limit: ActiveLimit;
  readonly poison: PoisonBackoff;
  readonly idleAfterMs: number | undefined;
  readonly tracksRecency: boolean;
}

/**
 * Hands `cmd` to `ref`, which is running: the command is in its mailbox (or being handled) before anything
 * else can happen, so no passivation slips in between. Should the entity fail before taking it, the entity
 * passes it on to the registry's `passOn` instead of rejecting it.
 */
export function dispatch(ref: Actor, cmd: unknown, options: AnyOptions | undefined): Promise<AnyResult> {
  return ref.handleCmd(cmd, options as IdempotentCmdOptions);
}

/**
 * The slots of a registry through their lifecycle: spawning (backoff, a place under the active limit,
 * recovery), active, stopping (passivated by idleness, the limit or explicitly), then removed or respawned
 * for the callers that arrived meanwhile. Also picks whom to passivate: least recently used first. Keeps the
 * counters the registry's `stats` report.
 */
export class SlotLifecycle<S, E, P extends CmdSpec> {
  readonly slots = new Map<string, Slot>();
  recovering = 0;
  active = 0;
  stopping = 0;
  recoveries = 0;
  failures = 0;
  readonly passivations = { idle: 0, limit: 0, explicit: 0 };
  /** States recovered by the registry's `prefetch`, taken by the next spawn of their id. */
  readonly prefetched = new Map<string, Prefetched<S>>();
  readonly #o: SlotLifecycleOptions<S, E, P>;
  // Least recently used first; maintained only when `tracksRecency` (a passivation policy reads it).
  readonly #recency = new RecencyList<Slot>();
  #emptied: Deferred<void> | undefined;

  constructor(options: SlotLifecycleOptions<S, E, P>) {
    this.#o = options;
  }

  /** A new slot for `id` with `waiter` in it; spawns its first incarnation. */
  open(id: string, waiter: SlotWaiter<unknown>): void {
    const slot = new RegistrySlot<Actor>(id);
    this.slots.set(id, slot);
    slot.wait(waiter);
    this.recoveries++;
    void this.#spawn(slot);
  }

  /** For `close()`: from now on, notices when the last slot is gone. */
  watchEmpty(): void {
    this.#emptied = deferred<void>();
  }

  /** For `close()`, after `watchEmpty()`: stops every active entity; resolves once every slot is gone. */
  async stopAll(): Promise<void> {
    for (const slot of [...this.slots.values()]) if (slot.phase === "active") this.stop(slot, "close");
    if (this.slots.size > 0) await this.#emptied?.promise;
  }

  /** Spawns the next incarnation of a slot: backoff, then a place under the limit, then recovery. */
  async #spawn(slot: Slot): Promise<void> {
    const { typeName, closing, limit, poison, canHost } = this.#o;
    const id = slot.id;
    let recovering = false;
    let ref: Actor;
    try {
      const delay = poison.delayMs(id, performance.now());
      if (delay > 0) await sleep(delay, closing).done;
      if (closing.aborted) throw new RegistryClosedError(typeName, id);
      if (canHost !== undefined && !canHost(id)) throw new EntityNotHostedError(typeName, id);
      const config = this.#o.configFor(id);
      const placed = limit.acquire();
      if (limit.waiting > 0) this.makeRoom();
      await placed;
      recovering = true;
      this.recovering++;
      try {
        const prefetched = this.prefetched.get(id);
        this.prefetched.delete(id);
        ref = (await spawnWithConfig(id, config, closing, prefetched)) as unknown as Actor;
      } catch (error) {
        limit.release();
        throw error;
      } finally {
        this.recovering--;
      }
    } catch (error) {
      this.#spawnFailed(slot, recovering, error);
      return;
    }
    poison.succeeded(id);
    slot.activate(ref, nowMs());
    this.active++;
    if (this.#o.tracksRecency) this.#recency.push(slot);
    for (const waiter of slot.takeWaiters()) {
      if (waiter.cmd === GET_REF) {
        waiter.resolve(ref);
      } else {
        waiter.take();
        dispatch(ref, waiter.cmd, waiter.options).then(
          (result) => waiter.resolve(result),
          (error: unknown) => waiter.reject(error),
        );
      }
    }
    // Recovered after close() began: what was waiting is served by this incarnation, then it stops.
    if (closing.aborted) this.stop(slot, "close");
    else if (limit.waiting > 0) this.makeRoom();
  }

  #spawnFailed(slot: Slot, recovering: boolean, error: unknown): void {
    const { typeName, closing } = this.#o;
    const closed = closing.aborted;
    if (recovering && !closed) {
      this.failures++;
      const retryInMs = this.#o.poison.failed(slot.id, performance.now());
      this.#o.config.logger.warn("entity recovery failed; its next recovery backs off", {
        type: typeName,
        id: slot.id,
        retryInMs: Math.round(retryInMs),
        error,
      });
    }
    this.#remove(slot);
    const reason = closed ? new RegistryClosedError(typeName, slot.id) : error;
    for (const waiter of slot.takeWaiters()) waiter.reject(reason);
  }

  /** Passivates (or, closing, stops) the active entity of `slot`; resolves once it has stopped. */
  stop(slot: Slot, reason: StopReason): Promise<void> {
    const ref = slot.ref!;
    slot.beginStop();
    if (this.#o.tracksRecency) this.#recency.remove(slot);
    this.active--;
    this.stopping++;
    if (ref.status === "failed") {
      this.failures++;
      this.#o.poison.failed(slot.id, performance.now());
    } else if (reason !== "close" && reason !== "noticed") {
      this.passivations[reason]++;
      this.#o.config.logger.debug("entity passivated", { type: this.#o.typeName, id: slot.id, reason });
      this.#o.config.instrumentation?.passivated?.({ typeName: this.#o.typeName, id: slot.id, reason });
    }
    // An automatic passivation (idle, limit) leaves the entity's background deletion queued and paced (the
    // id's next recovery waits for it, `close()` for all); an explicit one, closing or a stopped entity waits
    // for it, hurried, as `stop()` does (ADR 0120).
    const automatic = reason === "idle" || reason === "limit";
    const snapshot = this.#o.snapshotOnPassivate;
    const stopped = automatic ? ref.passivate(snapshot) : snapshot ? ref.stopWithSnapshot() : ref.stop();
    // Registered before any caller's reaction, so callers of passivate() resume after the slot is updated.
    void stopped.then(() => this.#stopped(slot));
    return stopped;
  }

  #stopped(slot: Slot): void {
    this.stopping--;
    this.#o.limit.release();
    if (!this.#o.closing.aborted && slot.hasWaiters()) {
      slot.respawn();
      this.recoveries++;
      void this.#spawn(slot);
      return;
    }
    this.#remove(slot);
    for (const waiter of slot.takeWaiters())
      waiter.reject(new RegistryClosedError(this.#o.typeName, slot.id));
  }

  /** An incarnation is no longer running although its slot is active (it failed, or its ref was stopped). */
  notice(ref: Actor): void {
    const slot = this.slots.get(ref.id);
    if (slot?.ref === ref && slot.phase === "active") this.stop(slot, "noticed");
  }

  #remove(slot: Slot): void {
    if (this.slots.get(slot.id) === slot) this.slots.delete(slot.id);
    if (this.slots.size === 0) this.#emptied?.resolve();
  }

  /** Records an access to an active slot (only called when recency is tracked). */
  touch(slot: Slot): void {
    if (this.#o.idleAfterMs !== undefined) slot.touchedAt = nowMs();
    this.#recency.touch(slot);
  }

  /** Passivates least recently used entities until the stops under way free a place for every waiter. */
  makeRoom(): void {
    const limit = this.#o.limit;
    const excess = limit.held + limit.waiting - limit.max;
    while (this.stopping < excess) {
      const oldest = this.#recency.oldest;
      if (oldest === undefined) return;
      this.stop(oldest, "limit");
    }
  }

  /** Passivates the entities idle for longer than `idleAfterMs`. */
  sweep(): void {
    const now = nowMs();
    const idleAfterMs = this.#o.idleAfterMs!;
    for (
      let slot = this.#recency.oldest;
      // Strictly more: the clock has whole milliseconds, so equal readings may be up to 1 ms short.
      slot !== undefined && elapsedMs(now, slot.touchedAt) > idleAfterMs;
      slot = this.#recency.oldest
    ) {
      this.stop(slot, "idle");
    }
  }
}
