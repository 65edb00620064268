import { EntityActor } from "./entity-actor.js";
import { type EntityConfig, entityConfig, recoverySource } from "./entity-config.js";
import type { EntityRef, SpawnOptions } from "./entity-ref.js";
import { ErrorCode, isEventSourcedError, RecoveryError } from "./errors/index.js";
import type { CmdSpec, EventSourced } from "./event-sourced.js";
import { type AppliedKey, IdempotencyWindow } from "./idempotency-window.js";
import { recover } from "./recovery.js";
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
): Promise<EntityRef<P>> {
  const type = config.typeName;
  validateTypeAndId(type, id);
  signal?.throwIfAborted();
  const startedAt = config.instrumentation === undefined ? 0 : performance.now();
  const observer = config.instrumentation?.recoveryStarted?.({ typeName: type, id, startedAt });
  try {
    let keys: IdempotencyWindow | undefined;
    const onKey = (key: string, applied: AppliedKey): void => {
      keys ??= new IdempotencyWindow(config.idempotency.maxKeys, config.idempotency.maxAgeMs);
      keys.record(key, applied);
    };
    const recovered = await recover(recoverySource(config, id, onKey), signal);
    // A tombstone whose deletion did not finish (a crash, a projection behind): finish it now.
    if (recovered.tombstoneSeqNo !== undefined) config.retention?.requestErase(id, recovered.tombstoneSeqNo);
    const actor = new EntityActor(config, id, recovered, keys);
    observer?.ended({
      ok: true,
      seqNo: recovered.seqNo,
      events: recovered.seqNo - (recovered.snapshotSeqNo ?? 0),
      snapshotSeqNo: recovered.snapshotSeqNo,
      durationMs: performance.now() - startedAt,
    });
    return actor;
  } catch (error) {
    const durationMs = performance.now() - startedAt;
    observer?.ended({ ok: false, seqNo: 0, events: 0, snapshotSeqNo: undefined, durationMs, error });
    if (signal?.aborted && error === signal.reason) throw error;
    if (isEventSourcedError(error) && RECOVERY_ERROR_CODES.has(error.code)) throw error;
    throw new RecoveryError(type, id, { cause: error });
  }
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
    return spawnWithConfig(id, entityConfig(definition, options), options?.signal);
  },
};
