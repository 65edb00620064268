import type { BackoffOptions } from "../backoff.js";
import type { SpawnOptions } from "../entity-ref.js";
import { InvalidArgumentError } from "../errors/index.js";
import type { EvtLog } from "../evt-log.js";
import { PoisonBackoff } from "./poison-backoff.js";

/** When the registry passivates (stops) resident entities. Both policies are optional and combine. */
export interface PassivationOptions {
  /** Passivate an entity no command has gone to through the registry for this long. Default: never. */
  readonly idleAfterMs?: number | undefined;
  /**
   * How often idle entities are looked for; an idle entity is passivated between `idleAfterMs` and
   * `idleAfterMs + sweepIntervalMs` after its last command. Default `idleAfterMs / 2` (as Akka).
   */
  readonly sweepIntervalMs?: number | undefined;
  /**
   * At most this many entities are resident (recovering, active or being stopped); beyond it the least
   * recently used one is passivated, and a new entity waits until a stop has completed. Default: no limit.
   */
  readonly maxActive?: number | undefined;
}

/**
 * Options of an `EntityRegistry`: the spawn options every entity gets (validated once, shared by all of
 * them), plus passivation, failure backoff and the hooks a cluster needs.
 */
export interface RegistryOptions<S, E> extends Omit<SpawnOptions<S, E>, "signal"> {
  /** Idle timeout and/or active-entity limit; default: entities stay until `passivate` or `close`. */
  readonly passivation?: PassivationOptions | undefined;
  /**
   * Save a snapshot of an entity's final state when it is passivated (or closed) and has moved since it
   * was recovered, so that its next incarnation recovers from it instead of replaying. Needs
   * `snapshotStore`. Default false.
   */
  readonly snapshotOnPassivate?: boolean | undefined;
  /**
   * Backoff per id after a failed recovery (or an entity failing while active): the next recovery of that
   * id waits for it. Defaults: 1 s doubling to 30 s, jittered.
   */
  readonly failureBackoff?: BackoffOptions | undefined;
  /**
   * Asked before every spawn: false refuses the id with `EntityNotHostedError` (nothing spawned, the command
   * had no effect). For a cluster, which spawns only the ids whose shard this process owns; entities already
   * resident are passivated with `passivateWhere` once ownership is given up. Default: every id.
   */
  readonly canHost?: ((id: string) => boolean) | undefined;
  /**
   * The log an entity is recovered from and persists to; default `evtLog` for every id. For a cluster, which
   * hands each entity a fencing wrapper of its shard's lease. Return one log per shard (not per id): the
   * registry shares one entity config per distinct log.
   */
  readonly evtLogFor?: ((id: string) => EvtLog) | undefined;
}

/** {@link PassivationOptions} validated, with defaults applied. */
export interface Passivation {
  /** Undefined: no idle passivation. */
  readonly idleAfterMs: number | undefined;
  readonly sweepIntervalMs: number | undefined;
  /** `Infinity`: no limit. */
  readonly maxActive: number;
}

// setTimeout (and so the sweep) cannot wait longer; the int32 clock of the slots could not measure it either.
const MAX_TIMER_MS = 2 ** 31 - 1;

function positiveInteger(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Validates the passivation options; throws `InvalidArgumentError` naming the option. */
export function passivation(options: PassivationOptions | undefined): Passivation {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new InvalidArgumentError(`passivation must be an object, got ${String(options)}`);
  }
  const { idleAfterMs, sweepIntervalMs, maxActive } = options ?? {};
  const idle =
    idleAfterMs === undefined
      ? undefined
      : positiveInteger("passivation.idleAfterMs", idleAfterMs, MAX_TIMER_MS);
  if (idle === undefined && sweepIntervalMs !== undefined) {
    throw new InvalidArgumentError("passivation.sweepIntervalMs needs passivation.idleAfterMs");
  }
  return {
    idleAfterMs: idle,
    sweepIntervalMs:
      idle === undefined
        ? undefined
        : sweepIntervalMs === undefined
          ? Math.max(1, Math.floor(idle / 2))
          : positiveInteger("passivation.sweepIntervalMs", sweepIntervalMs, MAX_TIMER_MS),
    maxActive:
      maxActive === undefined
        ? Number.POSITIVE_INFINITY
        : positiveInteger("passivation.maxActive", maxActive, Number.MAX_SAFE_INTEGER),
  };
}

/** The failure backoff of a registry unless its options say otherwise. */
export const DEFAULT_FAILURE_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000 };

/**
 * The per-id backoff of `options.failureBackoff` (defaults applied); throws `InvalidArgumentError` naming
 * `failureBackoff` when it is not an object or its delays are not numbers with 0 < initialMs <= maxMs.
 */
export function failureBackoff(options: BackoffOptions | undefined): PoisonBackoff {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new InvalidArgumentError(`failureBackoff must be an object, got ${String(options)}`);
  }
  const initialMs = options?.initialMs ?? DEFAULT_FAILURE_BACKOFF.initialMs!;
  const maxMs = options?.maxMs ?? Math.max(DEFAULT_FAILURE_BACKOFF.maxMs!, initialMs);
  try {
    return new PoisonBackoff({ initialMs, maxMs });
  } catch (error) {
    throw new InvalidArgumentError(`failureBackoff: ${(error as Error).message}`, { cause: error });
  }
}
