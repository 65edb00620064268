import { EntityActor } from "./entity-actor.js";
import { type EntityConfig, entityConfig, recoverySource } from "./entity-config.js";
import type { EntityRef, SpawnOptions } from "./entity-ref.js";
import { ErrorCode, InvalidArgumentError, isEventSourcedError, RecoveryError } from "./errors/index.js";
import type { CmdSpec, EventSourced } from "./event-sourced.js";
import { type AppliedKey, IdempotencyWindow } from "./idempotency-window.js";
import { recoverMany } from "./recover-many.js";
import { catchUpOrRecover, type Recovered, recover } from "./recovery.js";
import type { RetentionRunner } from "./retention-runner.js";
import { validateTypeAndId } from "./validate.js";

/** Errors that recovery reports as they are; anything else is wrapped in a `RecoveryError`. */
const RECOVERY_ERROR_CODES: ReadonlySet<string> = new Set([
  ErrorCode.Decode,
  ErrorCode.SnapshotAheadOfLog,
  ErrorCode.Recovery,
  ErrorCode.InvalidArgument,
  ErrorCode.EventsDeleted,
  ErrorCode.SnapshotVersionUnknown,
]);

/**
 * Recovers entity `id` with an already validated config and starts it. Shared by `Entity.spawn` and the
 * registry (which validates its options once for all the entities it spawns).
 */
export async function spawnWithConfig<S, E, P extends CmdSpec>(
  id: string,
  config: EntityConfig<S, E, P>,
  signal?: AbortSignal,
  prefetched?: Prefetched<S>,
): Promise<EntityRef<P>> {
  const type = config.typeName;
  validateTypeAndId(type, id);
  signal?.throwIfAborted();
  const startedAt = config.instrumentation === undefined ? 0 : performance.now();
  const observer = config.instrumentation?.recoveryStarted?.({ typeName: type, id, startedAt });
  const keys = prefetched?.keys ?? new KeysCollector(config);
  try {
    if (config.retention !== undefined) await deletionLeftFor(config.retention, [id]);
    const source = recoverySource(config, id, keys.onKey);
    // A prefetched state only needs what was written since (usually nothing): one lastSeqNo.
    const recovered =
      prefetched === undefined
        ? await recover(source, signal)
        : await catchUpOrRecover(source, prefetched.recovered, signal);
    const ref = startRecovered(config, id, recovered, keys.window);
    observer?.ended({
      ok: true,
      seqNo: recovered.seqNo,
      events: recovered.seqNo - (recovered.snapshotSeqNo ?? 0),
      snapshotSeqNo: recovered.snapshotSeqNo,
      durationMs: performance.now() - startedAt,
    });
    return ref;
  } catch (error) {
    const durationMs = performance.now() - startedAt;
    observer?.ended({ ok: false, seqNo: 0, events: 0, snapshotSeqNo: undefined, durationMs, error });
    throw recoveryFailure(type, id, error, signal);
  }
}

/**
 * Recovers the entities `ids` together (their events read in bulk, see `recoverMany`) and starts them, in
 * the order of `ids`. All or nothing: when one cannot be recovered, none is started and the error of the
 * first that failed is thrown, as `spawnWithConfig` would throw it.
 */
export async function spawnManyWithConfig<S, E, P extends CmdSpec>(
  ids: readonly string[],
  config: EntityConfig<S, E, P>,
  signal?: AbortSignal,
): Promise<EntityRef<P>[]> {
  const type = config.typeName;
  if (!Array.isArray(ids)) throw new InvalidArgumentError("spawnMany needs an array of entity ids");
  const seen = new Set<string>();
  for (const id of ids) {
    validateTypeAndId(type, id);
    if (seen.has(id)) throw new InvalidArgumentError(`entity id ${JSON.stringify(id)} appears twice`);
    seen.add(id);
  }
  signal?.throwIfAborted();
  const keys = ids.map(() => new KeysCollector(config));
  let outcomes: Awaited<ReturnType<typeof recoverMany<S, E>>>;
  try {
    if (config.retention !== undefined) await deletionLeftFor(config.retention, ids);
    outcomes = await recoverMany(
      ids.map((id, i) => recoverySource(config, id, keys[i]!.onKey)),
      signal,
    );
  } catch (error) {
    throw recoveryFailure(type, ids[0] ?? "-", error, signal);
  }
  const failed = outcomes.findIndex((outcome) => !outcome.ok);
  if (failed >= 0) {
    throw recoveryFailure(type, ids[failed]!, (outcomes[failed] as { error: unknown }).error, signal);
  }
  return outcomes.map((outcome, i) =>
    startRecovered(config, ids[i]!, (outcome as { recovered: Recovered<S> }).recovered, keys[i]!.window),
  );
}

/** An entity recovered ahead of its spawn by {@link prefetchRecoveries}. */
export interface Prefetched<S> {
  readonly recovered: Recovered<S>;
  readonly keys: KeysCollector;
}

/**
 * Recovers the entities `ids` together (`recoverMany`) without starting them, for a registry's `prefetch`:
 * the ones recovered, by id; the ones that failed are left out (their own spawn reports why).
 */
export async function prefetchRecoveries<S, E, P extends CmdSpec>(
  ids: readonly string[],
  config: EntityConfig<S, E, P>,
  signal?: AbortSignal,
): Promise<Map<string, Prefetched<S>>> {
  const keys = ids.map(() => new KeysCollector(config));
  if (config.retention !== undefined) await deletionLeftFor(config.retention, ids);
  const outcomes = await recoverMany(
    ids.map((id, i) => recoverySource(config, id, keys[i]!.onKey)),
    signal,
  );
  const prefetched = new Map<string, Prefetched<S>>();
  outcomes.forEach((outcome, i) => {
    if (outcome.ok) prefetched.set(ids[i]!, { recovered: outcome.recovered, keys: keys[i]! });
  });
  return prefetched;
}

/**
 * Waits for the background deletion (retention, erasure) that a passivated incarnation of any of `ids` left
 * queued, hurrying it: recovery must not read an entity while its events or snapshots are being deleted
 * (ADR 0120).
 */
async function deletionLeftFor(
  retention: Pick<RetentionRunner<never, never>, "busyWith" | "idleFor">,
  ids: readonly string[],
): Promise<void> {
  const busy = ids.filter((id) => retention.busyWith(id));
  if (busy.length > 0) await Promise.all(busy.map((id) => retention.idleFor(id)));
}

/** Collects the idempotency keys recovery reports into a window, created at the first key. */
class KeysCollector {
  window: IdempotencyWindow | undefined;
  constructor(readonly config: Pick<EntityConfig<unknown, unknown, CmdSpec>, "idempotency">) {}
  readonly onKey = (key: string, applied: AppliedKey): void => {
    const { maxKeys, maxAgeMs } = this.config.idempotency;
    this.window ??= new IdempotencyWindow(maxKeys, maxAgeMs);
    this.window.record(key, applied);
  };
}

function startRecovered<S, E, P extends CmdSpec>(
  config: EntityConfig<S, E, P>,
  id: string,
  recovered: Recovered<S>,
  keys: IdempotencyWindow | undefined,
): EntityRef<P> {
  // A tombstone whose deletion did not finish (a crash, a projection behind): finish it now.
  if (recovered.tombstoneSeqNo !== undefined)
    config.retention?.requestErase(id, recovered.tombstoneSeqNo, config.evtLog);
  return new EntityActor(config, id, recovered, keys);
}

/** What a failed recovery rejects with: the abort reason, a recovery error as is, else a `RecoveryError`. */
function recoveryFailure(type: string, id: string, error: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted && error === signal.reason) return error;
  if (isEventSourcedError(error) && RECOVERY_ERROR_CODES.has(error.code)) return error;
  return new RecoveryError(type, id, { cause: error });
}

/** Spawns entities. */
export const Entity = {
  /**
   * Recovers the entity `id` (latest snapshot, then exactly the events after it) and starts it as a
   * mailbox-serialized actor. Resolves once recovery has finished.
   *
   * Rejects with `InvalidArgumentError` (bad type name, id or option; the message names the rule),
   * `DecodeError` (a snapshot or event cannot be decoded; names the seqNo), `SnapshotAheadOfLogError`,
   * `RecoveryError` (reading failed or `handleEvt` threw; `cause` says why), or `options.signal.reason`
   * when aborted.
   * @example
   * const ref = await Entity.spawn("c-1", counter, { evtLog: new InMemoryEvtLog() });
   * const result = await ref.handleCmd({ type: "inc", by: 2 });
   * if (result.kind === "accepted") console.log(result.reply, result.seqNo);
   */
  async spawn<S, E, P extends CmdSpec>(
    id: string,
    definition: EventSourced<S, E, P>,
    options: SpawnOptions<S, E>,
  ): Promise<EntityRef<P>> {
    validateTypeAndId(definition?.typeName, id);
    return spawnWithConfig(id, entityConfig(definition, options), spawnSignal(options));
  },

  /**
   * Recovers the entities `ids` and starts them, like `spawn` for each but with their events read in bulk
   * when the log can (`EvtLogBulkReads`, e.g. `PostgresEvtLog`): a few large queries across entities instead
   * of at least one per entity, which is what a restart with many resident entities or a warm-up waits for.
   * Resolves to their refs in the order of `ids`. All or nothing: when one cannot be recovered, none is
   * started and the call rejects as `spawn` would have for that entity; duplicate ids are an
   * `InvalidArgumentError`.
   * @example
   * const refs = await Entity.spawnMany(["c-1", "c-2", "c-3"], counter, { evtLog });
   */
  async spawnMany<S, E, P extends CmdSpec>(
    ids: readonly string[],
    definition: EventSourced<S, E, P>,
    options: SpawnOptions<S, E>,
  ): Promise<EntityRef<P>[]> {
    validateTypeAndId(definition?.typeName, "-");
    return spawnManyWithConfig(ids, entityConfig(definition, options), spawnSignal(options));
  },
};

/** `options.signal`, which must be an `AbortSignal` when given (`InvalidArgumentError` otherwise). */
function spawnSignal(
  options: { readonly signal?: AbortSignal | undefined } | undefined,
): AbortSignal | undefined {
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError("options.signal must be an AbortSignal");
  }
  return signal;
}
