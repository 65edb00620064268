import { type Deferred, deferred, sleep } from "../deferred.js";
import { spawnWithConfig } from "../entity.js";
import type { EntityActor } from "../entity-actor.js";
import { type EntityConfig, entityConfig } from "../entity-config.js";
import type { DuplicateResult, EntityRef, HandleCmdOptions, IdempotentCmdOptions } from "../entity-ref.js";
import { EntityNotHostedError, InvalidArgumentError, RegistryClosedError } from "../errors.js";
import type { CmdOf, CmdResult, CmdSpec, EventSourced, RejectionOf, ReplyOf } from "../event-sourced.js";
import { type EvtLog, TYPE_NAME_PATTERN } from "../evt-log.js";
import { callerSignal } from "../pending-cmd.js";
import { validateId } from "../validate.js";
import { ActiveLimit } from "./active-limit.js";
import { PoisonBackoff } from "./poison-backoff.js";
import { RecencyList } from "./recency-list.js";
import { DEFAULT_FAILURE_BACKOFF, passivation, type RegistryOptions } from "./registry-options.js";
import { elapsedMs, GET_REF, nowMs, type RegistryPhase, RegistrySlot, SlotWaiter } from "./registry-slot.js";
import type { PassivationReason, RegistryStats } from "./registry-stats.js";

// biome-ignore lint/suspicious/noExplicitAny: the registry forwards any reply and rejection of its protocol
type AnyResult = CmdResult<any, any> | DuplicateResult;
type AnyOptions = HandleCmdOptions | IdempotentCmdOptions;
type Actor = EntityActor<unknown, unknown, CmdSpec>;
type Slot = RegistrySlot<Actor>;
/** Why a slot stops: a passivation (counted by reason), or the registry closing or noticing a stopped entity. */
type StopReason = PassivationReason | "close" | "noticed";

const NOTHING = (): void => {};

/**
 * Entities of one type by id: `send` gets or spawns the entity and hands it the command, so an application
 * holds ids instead of refs. At most one incarnation per id is alive; entities are passivated (stopped
 * gracefully) when idle or beyond an active limit, and spawned again on their next command.
 *
 * - Concurrent first access to an id recovers it once; the callers wait in the id's slot and are served in
 *   arrival order.
 * - A command for an entity being passivated waits for the stop and is handled by the next incarnation; one
 *   already accepted by the stopping incarnation completes there. `send` never surfaces the
 *   `EntityStoppedError` of an incarnation that stopped before taking its command: the command had no
 *   effect, so it goes to the next incarnation. No command is lost or handled twice.
 * - A failed recovery removes the slot and gives its callers the typed error (`DecodeError`,
 *   `RecoveryError`, ...); the id then backs off (jittered, doubling), so a poisoned entity cannot hot-loop
 *   recoveries. An entity found failed while active is removed and backs off the same way.
 * @example
 * const counters = new EntityRegistry(counter, {
 *   evtLog,
 *   passivation: { idleAfterMs: 120_000, maxActive: 100_000 },
 * });
 * const result = await counters.send("c-1", { type: "inc", by: 1 }, { timeoutMs: 5_000 });
 * await counters.close();
 */
export class EntityRegistry<S, E, P extends CmdSpec> {
  readonly typeName: string;
  readonly #config: EntityConfig<S, E, P>;
  readonly #configs = new WeakMap<EvtLog, EntityConfig<S, E, P>>();
  readonly #evtLogFor: ((id: string) => EvtLog) | undefined;
  readonly #canHost: ((id: string) => boolean) | undefined;
  readonly #snapshotOnPassivate: boolean;
  readonly #slots = new Map<string, Slot>();
  readonly #recency = new RecencyList<Slot>();
  // Without either policy nothing reads the recency list, so the hot path skips maintaining it.
  readonly #tracksRecency: boolean;
  readonly #idleAfterMs: number | undefined;
  readonly #limit: ActiveLimit;
  readonly #poison: PoisonBackoff;
  // Aborted by close(): the registry's one "closed" state, also cutting recoveries and backoff waits short.
  readonly #closing = new AbortController();
  readonly #sweeper: ReturnType<typeof setInterval> | undefined;
  #closed: Promise<void> | undefined;
  #emptied: Deferred<void> | undefined;
  #recovering = 0;
  #active = 0;
  #stopping = 0;
  #hits = 0;
  #misses = 0;
  #recoveries = 0;
  #failures = 0;
  readonly #passivations = { idle: 0, limit: 0, explicit: 0 };

  /**
   * Validates `options` once for every entity the registry will spawn; throws `InvalidArgumentError`
   * naming the option.
   */
  constructor(definition: EventSourced<S, E, P>, options: RegistryOptions<S, E>) {
    const typeName = definition?.typeName;
    if (typeof typeName !== "string" || !TYPE_NAME_PATTERN.test(typeName)) {
      throw new InvalidArgumentError(
        `invalid entity type name ${JSON.stringify(typeName)}: must match ${TYPE_NAME_PATTERN}`,
      );
    }
    this.#config = Object.freeze({
      ...entityConfig(definition, options),
      passOn: (ref: EntityRef<P>, cmd: P["cmd"], handOptions: AnyOptions | undefined) =>
        this.#passOn(ref as unknown as Actor, cmd, handOptions),
    });
    this.typeName = typeName;
    const { idleAfterMs, sweepIntervalMs, maxActive } = passivation(options.passivation);
    for (const hook of ["canHost", "evtLogFor"] as const) {
      if (options[hook] !== undefined && typeof options[hook] !== "function") {
        throw new InvalidArgumentError(`${hook} must be a function`);
      }
    }
    if (options.snapshotOnPassivate && options.snapshotStore === undefined) {
      throw new InvalidArgumentError("snapshotOnPassivate needs options.snapshotStore");
    }
    this.#evtLogFor = options.evtLogFor;
    this.#canHost = options.canHost;
    this.#snapshotOnPassivate = options.snapshotOnPassivate ?? false;
    this.#idleAfterMs = idleAfterMs;
    this.#limit = new ActiveLimit(maxActive);
    this.#tracksRecency = idleAfterMs !== undefined || maxActive !== Number.POSITIVE_INFINITY;
    const initialMs = options.failureBackoff?.initialMs ?? DEFAULT_FAILURE_BACKOFF.initialMs!;
    this.#poison = new PoisonBackoff({
      initialMs,
      maxMs: options.failureBackoff?.maxMs ?? Math.max(DEFAULT_FAILURE_BACKOFF.maxMs!, initialMs),
    });
    if (sweepIntervalMs !== undefined) {
      this.#sweeper = setInterval(() => this.#sweep(), sweepIntervalMs);
      this.#sweeper.unref?.();
    }
  }

  /** Counters for monitoring (a copy). */
  get stats(): RegistryStats {
    return {
      active: this.#active,
      spawning: this.#recovering,
      waiting: this.#slots.size - this.#recovering - this.#active - this.#stopping,
      stopping: this.#stopping,
      hits: this.#hits,
      misses: this.#misses,
      recoveries: this.#recoveries,
      passivations: { ...this.#passivations },
      failures: this.#failures,
    };
  }

  /** Where the entity `id` is: `spawning`, `active`, `stopping`, or undefined when it is not resident. */
  phase(id: string): RegistryPhase | undefined {
    return this.#slots.get(id)?.phase;
  }

  /**
   * Gets or spawns the entity `id` and handles `cmd` there; typed like `EntityRef.handleCmd`, and rejects
   * like it (see there), except that it never rejects with `EntityStoppedError` for an entity the registry
   * passivated. Also rejects with `InvalidArgumentError` for a bad id, the recovery's error when the entity
   * cannot be recovered, `EntityNotHostedError` when `canHost` refuses the id, and `RegistryClosedError` once
   * the registry is closed (the command had no effect). `options.timeoutMs` and `signal` also bound the
   * wait for a backoff, a place under the limit, and the recovery.
   */
  send<C extends CmdOf<P>>(
    id: string,
    cmd: C,
    options: IdempotentCmdOptions,
  ): Promise<CmdResult<ReplyOf<P, C>, RejectionOf<P, C>> | DuplicateResult>;
  /** Like the overload above; without an idempotency key it never resolves to a duplicate. */
  send<C extends CmdOf<P>>(
    id: string,
    cmd: C,
    options?: HandleCmdOptions,
  ): Promise<CmdResult<ReplyOf<P, C>, RejectionOf<P, C>>>;
  send<C extends CmdOf<P>>(id: string, cmd: C, options?: AnyOptions): Promise<AnyResult> {
    const slot = this.#slots.get(id);
    if (slot !== undefined && slot.phase === "active") {
      const ref = slot.ref!;
      if (ref.status === "running") {
        this.#hits++;
        if (this.#tracksRecency) this.#touch(slot);
        return this.#dispatch(ref, cmd, options);
      }
    }
    return this.#slow(id, cmd, options) as Promise<AnyResult>;
  }

  /**
   * Gets or spawns the entity `id` and resolves to its current incarnation, for repeated use. Counts as an
   * access like `send`, but commands sent through the ref directly do not: the registry may passivate the
   * entity meanwhile, and the ref then rejects with `EntityStoppedError`. Prefer `send`.
   */
  get(id: string): Promise<EntityRef<P>> {
    return this.#slow(id, GET_REF, undefined) as Promise<EntityRef<P>>;
  }

  /**
   * Passivates the entity `id` now (reason `explicit`): it finishes its queued commands, then stops.
   * Resolves once it has stopped (at once when it is not resident); an entity still spawning is passivated
   * once it is active.
   */
  passivate(id: string): Promise<void> {
    const slot = this.#slots.get(id);
    if (slot === undefined) return Promise.resolve();
    if (slot.phase === "active") return this.#stop(slot, "explicit");
    if (slot.phase === "stopping") return slot.ref!.stop();
    const activated = new SlotWaiter<unknown>(GET_REF, undefined, undefined);
    slot.wait(activated);
    return activated.promise.then(() => this.passivate(id), NOTHING);
  }

  /**
   * Passivates every resident entity whose id matches `predicate` (as {@link passivate}) and resolves once
   * all of them have stopped. For a cluster handing a shard over: make `canHost` refuse the shard's ids
   * first, so that no new incarnation starts, then await this.
   */
  async passivateWhere(predicate: (id: string) => boolean): Promise<void> {
    const stops: Promise<void>[] = [];
    for (const id of [...this.#slots.keys()]) if (predicate(id)) stops.push(this.passivate(id));
    await Promise.all(stops);
  }

  /**
   * Stops every entity gracefully (queued commands finish, snapshot saves complete) and resolves once all
   * have stopped. Commands still waiting for an entity, and every later `send` or `get`, reject with
   * `RegistryClosedError`; they had no effect. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#emptied = deferred<void>();
    this.#closing.abort(new RegistryClosedError(this.typeName, undefined));
    this.#limit.rejectAll(() => new RegistryClosedError(this.typeName, undefined));
    for (const slot of [...this.#slots.values()]) if (slot.phase === "active") this.#stop(slot, "close");
    if (this.#slots.size > 0) await this.#emptied.promise;
  }

  /**
   * Hands `cmd` to `ref`, which is running: the command is in its mailbox (or being handled) before anything
   * else can happen, so no passivation slips in between. Should the entity fail before taking it, the entity
   * passes it on to {@link #passOn} instead of rejecting it.
   */
  #dispatch(ref: Actor, cmd: unknown, options: AnyOptions | undefined): Promise<AnyResult> {
    return ref.handleCmd(cmd, options as IdempotentCmdOptions);
  }

  /** A command `ref` accepted but never took (it failed first): it had no effect, so the next incarnation serves it. */
  #passOn(ref: Actor, cmd: unknown, options: AnyOptions | undefined): Promise<AnyResult> {
    this.#notice(ref);
    return this.#slow(ref.id, cmd, options) as Promise<AnyResult>;
  }

  /** Every access that is not a hit on a running entity: waits in the id's slot, spawning it if needed. */
  #slow(id: string, cmd: unknown, options: AnyOptions | undefined): Promise<unknown> {
    if (this.#closing.signal.aborted) return Promise.reject(new RegistryClosedError(this.typeName, id));
    try {
      validateId(id);
    } catch (error) {
      return Promise.reject(error);
    }
    let slot = this.#slots.get(id);
    if (slot?.phase === "active") {
      const ref = slot.ref!;
      if (ref.status === "running") {
        this.#hits++;
        if (this.#tracksRecency) this.#touch(slot);
        return cmd === GET_REF ? Promise.resolve(ref) : this.#dispatch(ref, cmd, options);
      }
      this.#notice(ref);
    }
    this.#misses++;
    let caller: ReturnType<typeof callerSignal>;
    try {
      caller = options === undefined ? undefined : callerSignal(this.typeName, id, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (caller?.signal.aborted) {
      caller.clear();
      return Promise.reject(caller.signal.reason);
    }
    // The caller's timeout became `caller.signal`; the metadata and the idempotency key travel on with it.
    const key = (options as Partial<IdempotentCmdOptions> | undefined)?.idempotencyKey;
    const handOptions: AnyOptions | undefined =
      caller === undefined
        ? options
        : {
            signal: caller.signal,
            ...(options?.metadata === undefined ? {} : { metadata: options.metadata }),
            ...(key === undefined ? {} : { idempotencyKey: key }),
          };
    const waiter = new SlotWaiter<unknown>(cmd, handOptions, caller);
    if (slot === undefined) {
      slot = new RegistrySlot<Actor>(id);
      this.#slots.set(id, slot);
      slot.wait(waiter);
      this.#recoveries++;
      void this.#spawn(slot);
    } else {
      slot.wait(waiter);
    }
    return waiter.promise;
  }

  /** Spawns the next incarnation of a slot: backoff, then a place under the limit, then recovery. */
  async #spawn(slot: Slot): Promise<void> {
    const id = slot.id;
    let recovering = false;
    let ref: Actor;
    try {
      const delay = this.#poison.delayMs(id, performance.now());
      if (delay > 0) await sleep(delay, this.#closing.signal).done;
      if (this.#closing.signal.aborted) throw new RegistryClosedError(this.typeName, id);
      if (this.#canHost !== undefined && !this.#canHost(id))
        throw new EntityNotHostedError(this.typeName, id);
      const config = this.#configFor(id);
      const placed = this.#limit.acquire();
      if (this.#limit.waiting > 0) this.#makeRoom();
      await placed;
      recovering = true;
      this.#recovering++;
      try {
        ref = (await spawnWithConfig(id, config, this.#closing.signal)) as unknown as Actor;
      } catch (error) {
        this.#limit.release();
        throw error;
      } finally {
        this.#recovering--;
      }
    } catch (error) {
      this.#spawnFailed(slot, recovering, error);
      return;
    }
    this.#poison.succeeded(id);
    slot.activate(ref, nowMs());
    this.#active++;
    if (this.#tracksRecency) this.#recency.push(slot);
    for (const waiter of slot.takeWaiters()) {
      if (waiter.cmd === GET_REF) {
        waiter.resolve(ref);
      } else {
        waiter.take();
        this.#dispatch(ref, waiter.cmd, waiter.options).then(
          (result) => waiter.resolve(result),
          (error: unknown) => waiter.reject(error),
        );
      }
    }
    // Recovered after close() began: what was waiting is served by this incarnation, then it stops.
    if (this.#closing.signal.aborted) this.#stop(slot, "close");
    else if (this.#limit.waiting > 0) this.#makeRoom();
  }

  #spawnFailed(slot: Slot, recovering: boolean, error: unknown): void {
    const closed = this.#closing.signal.aborted;
    if (recovering && !closed) {
      this.#failures++;
      const retryInMs = this.#poison.failed(slot.id, performance.now());
      this.#config.logger.warn("entity recovery failed; its next recovery backs off", {
        type: this.typeName,
        id: slot.id,
        retryInMs: Math.round(retryInMs),
        error,
      });
    }
    this.#remove(slot);
    const reason = closed ? new RegistryClosedError(this.typeName, slot.id) : error;
    for (const waiter of slot.takeWaiters()) waiter.reject(reason);
  }

  /** Passivates (or, closing, stops) the active entity of `slot`; resolves once it has stopped. */
  #stop(slot: Slot, reason: StopReason): Promise<void> {
    const ref = slot.ref!;
    slot.beginStop();
    if (this.#tracksRecency) this.#recency.remove(slot);
    this.#active--;
    this.#stopping++;
    if (ref.status === "failed") {
      this.#failures++;
      this.#poison.failed(slot.id, performance.now());
    } else if (reason !== "close" && reason !== "noticed") {
      this.#passivations[reason]++;
      this.#config.logger.debug("entity passivated", { type: this.typeName, id: slot.id, reason });
    }
    const stopped = this.#snapshotOnPassivate ? ref.stopWithSnapshot() : ref.stop();
    // Registered before any caller's reaction, so callers of passivate() resume after the slot is updated.
    void stopped.then(() => this.#stopped(slot));
    return stopped;
  }

  #stopped(slot: Slot): void {
    this.#stopping--;
    this.#limit.release();
    if (!this.#closing.signal.aborted && slot.hasWaiters()) {
      slot.respawn();
      this.#recoveries++;
      void this.#spawn(slot);
      return;
    }
    this.#remove(slot);
    for (const waiter of slot.takeWaiters()) waiter.reject(new RegistryClosedError(this.typeName, slot.id));
  }

  /** An incarnation is no longer running although its slot is active (it failed, or its ref was stopped). */
  #notice(ref: Actor): void {
    const slot = this.#slots.get(ref.id);
    if (slot?.ref === ref && slot.phase === "active") this.#stop(slot, "noticed");
  }

  #remove(slot: Slot): void {
    if (this.#slots.get(slot.id) === slot) this.#slots.delete(slot.id);
    if (this.#slots.size === 0) this.#emptied?.resolve();
  }

  #touch(slot: Slot): void {
    if (this.#idleAfterMs !== undefined) slot.touchedAt = nowMs();
    this.#recency.touch(slot);
  }

  /** Passivates least recently used entities until the stops under way free a place for every waiter. */
  #makeRoom(): void {
    const excess = this.#limit.held + this.#limit.waiting - this.#limit.max;
    while (this.#stopping < excess) {
      const oldest = this.#recency.oldest;
      if (oldest === undefined) return;
      this.#stop(oldest, "limit");
    }
  }

  #sweep(): void {
    const now = nowMs();
    const idleAfterMs = this.#idleAfterMs!;
    for (
      let slot = this.#recency.oldest;
      // Strictly more: the clock has whole milliseconds, so equal readings may be up to 1 ms short.
      slot !== undefined && elapsedMs(now, slot.touchedAt) > idleAfterMs;
      slot = this.#recency.oldest
    ) {
      this.#stop(slot, "idle");
    }
  }

  #configFor(id: string): EntityConfig<S, E, P> {
    if (this.#evtLogFor === undefined) return this.#config;
    const evtLog = this.#evtLogFor(id);
    if (evtLog === this.#config.evtLog) return this.#config;
    let config = this.#configs.get(evtLog);
    if (config === undefined) {
      config = Object.freeze({ ...this.#config, evtLog });
      this.#configs.set(evtLog, config);
    }
    return config;
  }
}
