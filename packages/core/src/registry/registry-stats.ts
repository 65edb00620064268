/** Why an entity was passivated. */
export type PassivationReason = "idle" | "limit" | "explicit";

/** Counters of an `EntityRegistry`, for monitoring. Counts are since the registry was created. */
export interface RegistryStats {
  /** Entities serving commands now. */
  readonly active: number;
  /** Entities recovering now (they count toward `maxActive`). */
  readonly spawning: number;
  /** Ids whose callers wait for a failure backoff or for a place under `maxActive` now. */
  readonly waiting: number;
  /** Entities being stopped now (they count toward `maxActive`). */
  readonly stopping: number;
  /** Sends and gets that found their entity active. */
  readonly hits: number;
  /** Sends and gets that did not: the entity had to be spawned, or was spawning or stopping. */
  readonly misses: number;
  /** Recoveries started (incarnations spawned or attempted). */
  readonly recoveries: number;
  /** Passivations by reason: the idle timeout, the active limit, or `passivate`/`passivateWhere`. */
  readonly passivations: { readonly idle: number; readonly limit: number; readonly explicit: number };
  /** Recoveries that failed plus entities that failed while active. */
  readonly failures: number;
}
