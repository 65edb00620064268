import { prefetchRecoveries } from "../entity.js";
import { type EntityConfig, entityConfig } from "../entity-config.js";
import type { DuplicateResult, EntityRef, HandleCmdOptions, IdempotentCmdOptions } from "../entity-ref.js";
import { InvalidArgumentError, RegistryClosedError } from "../errors/index.js";
import type { CmdOf, CmdResult, CmdSpec, EventSourced, RejectionOf, ReplyOf } from "../event-sourced.js";
import { TYPE_NAME_PATTERN } from "../evt-log.js";
import { callerSignal } from "../pending-cmd.js";
import { validateCmd, validateCmdOptions, validateId } from "../validate.js";
import { ActiveLimit } from "./active-limit.js";
import { ConfigByLog } from "./config-by-log.js";
import { failureBackoff, passivation, type RegistryOptions } from "./registry-options.js";
import { GET_REF, type RegistryPhase, SlotWaiter } from "./registry-slot.js";
import type { RegistryStats } from "./registry-stats.js";
import {
  type Actor,
  type AnyOptions,
  type AnyResult,
  dispatch,
  type Slot,
  SlotLifecycle,
} from "./slot-lifecycle.js";

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
  readonly #configs: ConfigByLog<S, E, P>;
  // The same map as the lifecycle's, read directly on the hot path.
  readonly #slots: Map<string, Slot>;
  readonly #life: SlotLifecycle<S, E, P>;
  // Without either passivation policy nothing reads the recency list, so the hot path skips maintaining it.
  readonly #tracksRecency: boolean;
  readonly #limit: ActiveLimit;
  // Aborted by close(): the registry's one "closed" state, also cutting recoveries and backoff waits short.
  readonly #closing = new AbortController();
  readonly #sweeper: ReturnType<typeof setInterval> | undefined;
  #closed: Promise<void> | undefined;
  #hits = 0;
  #misses = 0;

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
    // A passivation option at the top level (a typo a type checker catches, JavaScript does not) would
    // silently leave the registry without its limit.
    for (const key of ["maxActive", "idleAfterMs", "sweepIntervalMs"]) {
      if (Object.hasOwn(options, key)) {
        throw new InvalidArgumentError(`${key} belongs under passivation: { passivation: { ${key} } }`);
      }
    }
    const { idleAfterMs, sweepIntervalMs, maxActive } = passivation(options.passivation);
    for (const hook of ["canHost", "evtLogFor"] as const) {
      if (options[hook] !== undefined && typeof options[hook] !== "function") {
        throw new InvalidArgumentError(`${hook} must be a function`);
      }
    }
    if (options.snapshotOnPassivate && options.snapshotStore === undefined) {
      throw new InvalidArgumentError("snapshotOnPassivate needs options.snapshotStore");
    }
    this.#configs = new ConfigByLog(this.#config, options.evtLogFor);
    this.#limit = new ActiveLimit(maxActive);
    this.#tracksRecency = idleAfterMs !== undefined || maxActive !== Number.POSITIVE_INFINITY;
    const poison = failureBackoff(options.failureBackoff);
    this.#life = new SlotLifecycle({
      typeName,
      config: this.#config,
      configFor: (id) => this.#configs.for(id),
      canHost: options.canHost,
      snapshotOnPassivate: options.snapshotOnPassivate ?? false,
      closing: this.#closing.signal,
      limit: this.#limit,
      poison,
      idleAfterMs,
      tracksRecency: this.#tracksRecency,
    });
    this.#slots = this.#life.slots;
    if (sweepIntervalMs !== undefined) {
      this.#sweeper = setInterval(() => this.#life.sweep(), sweepIntervalMs);
      this.#sweeper.unref?.();
    }
  }

  /** Counters for monitoring (a copy). */
  get stats(): RegistryStats {
    const life = this.#life;
    return {
      active: life.active,
      spawning: life.recovering,
      waiting: this.#slots.size - life.recovering - life.active - life.stopping,
      stopping: life.stopping,
      hits: this.#hits,
      misses: this.#misses,
      recoveries: life.recoveries,
      passivations: { ...life.passivations },
      failures: life.failures,
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
   * cannot be recovered or a bad command (`null`, `undefined`) or option (see `validateCmdOptions`), `EntityNotHostedError` when `canHost` refuses the id, and `RegistryClosedError` once
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
        if (this.#tracksRecency) this.#life.touch(slot);
        return dispatch(ref, cmd, options);
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
   * Recovers the entities `ids` that are not resident together, their events read in bulk when the log can
   * (see `Entity.spawnMany`), and makes them active as `get` would, one after the other under the active
   * limit: a warm-up, or a restart with many resident entities, waits for a few large reads instead of one
   * or more per entity. Resolves once each is active or has failed; an id that fails is left to its next
   * `send`, which reports why (and backs off). Ids beyond `maxActive` passivate earlier ones, so prefetch at
   * most that many. Rejects with `InvalidArgumentError` for a bad id, `RegistryClosedError` once closed.
   */
  async prefetch(ids: readonly string[]): Promise<void> {
    if (this.#closing.signal.aborted) throw new RegistryClosedError(this.typeName, undefined);
    if (!Array.isArray(ids)) throw new InvalidArgumentError("prefetch needs an array of entity ids");
    for (const id of ids) validateId(id);
    const absent = [...new Set(ids)].filter((id) => !this.#slots.has(id) && !this.#life.prefetched.has(id));
    const byConfig = new Map<EntityConfig<S, E, P>, string[]>();
    for (const id of absent) {
      const config = this.#configs.for(id);
      byConfig.set(config, [...(byConfig.get(config) ?? []), id]);
    }
    for (const [config, group] of byConfig) {
      const recovered = await prefetchRecoveries(group, config, this.#closing.signal);
      // Taken by the spawn `get` starts; one started meanwhile by a `send` recovered on its own.
      for (const [id, state] of recovered) if (!this.#slots.has(id)) this.#life.prefetched.set(id, state);
    }
    try {
      await Promise.allSettled(absent.map((id) => this.get(id)));
    } finally {
      for (const id of absent) this.#life.prefetched.delete(id);
    }
  }

  /**
   * Passivates the entity `id` now (reason `explicit`): it finishes its queued commands, then stops.
   * Resolves once it has stopped (at once when it is not resident); an entity still spawning is passivated
   * once it is active. Rejects with `InvalidArgumentError` for an id that breaks the id rules.
   */
  passivate(id: string): Promise<void> {
    try {
      validateId(id);
    } catch (error) {
      return Promise.reject(error);
    }
    const slot = this.#slots.get(id);
    if (slot === undefined) return Promise.resolve();
    if (slot.phase === "active") return this.#life.stop(slot, "explicit");
    if (slot.phase === "stopping") return slot.ref!.stop();
    const activated = new SlotWaiter<unknown>(GET_REF, undefined, undefined);
    slot.wait(activated);
    return activated.promise.then(() => this.passivate(id), NOTHING);
  }

  /**
   * Passivates every resident entity whose id matches `predicate` (as {@link passivate}) and resolves once
   * all of them have stopped. For a cluster handing a shard over: make `canHost` refuse the shard's ids
   * first, so that no new incarnation starts, then await this. Rejects with `InvalidArgumentError` when
   * `predicate` is not a function.
   */
  async passivateWhere(predicate: (id: string) => boolean): Promise<void> {
    if (typeof predicate !== "function") {
      throw new InvalidArgumentError(`passivateWhere: predicate must be a function, got ${typeof predicate}`);
    }
    const stops: Promise<void>[] = [];
    for (const id of [...this.#slots.keys()]) if (predicate(id)) stops.push(this.passivate(id));
    await Promise.all(stops);
  }

  /**
   * Stops every entity gracefully (queued commands finish, snapshot saves complete) and resolves once all
   * have stopped. Commands still waiting for an entity, and every later `send` or `get`, reject with
   * `RegistryClosedError`; they had no effect. Idempotent. A command being decided by an async `handleCmd`
   * that never settles holds it up unless the command has a `timeoutMs` or `signal` (which abandon it, see
   * `HandleCmdOptions`): bound what your handlers await, or give commands a timeout.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#life.watchEmpty();
    this.#closing.abort(new RegistryClosedError(this.typeName, undefined));
    this.#limit.rejectAll(() => new RegistryClosedError(this.typeName, undefined));
    await this.#life.stopAll();
    // What passivated entities left of their background deletion, now unpaced (ADR 0120).
    await this.#config.retention?.idle();
  }

  /** A command `ref` accepted but never took (it failed first): it had no effect, so the next incarnation serves it. */
  #passOn(ref: Actor, cmd: unknown, options: AnyOptions | undefined): Promise<AnyResult> {
    this.#life.notice(ref);
    return this.#slow(ref.id, cmd, options) as Promise<AnyResult>;
  }

  /** Every access that is not a hit on a running entity: waits in the id's slot, spawning it if needed. */
  #slow(id: string, cmd: unknown, options: AnyOptions | undefined): Promise<unknown> {
    if (this.#closing.signal.aborted) return Promise.reject(new RegistryClosedError(this.typeName, id));
    try {
      validateId(id);
      if (cmd !== GET_REF) {
        validateCmd(cmd);
        validateCmdOptions(options);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const slot = this.#slots.get(id);
    if (slot?.phase === "active") {
      const ref = slot.ref!;
      if (ref.status === "running") {
        this.#hits++;
        if (this.#tracksRecency) this.#life.touch(slot);
        return cmd === GET_REF ? Promise.resolve(ref) : dispatch(ref, cmd, options);
      }
      this.#life.notice(ref);
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
    if (slot === undefined) this.#life.open(id, waiter);
    else slot.wait(waiter);
    return waiter.promise;
  }
}
