import { applyRetention, type RetentionOutcome } from "./apply-retention.js";
import { jsonBinarizer } from "./binarize/json.js";
import type { Binarizer } from "./binarizer.js";
import { InvalidArgumentError } from "./errors/index.js";
import type { EvtLog } from "./evt-log.js";
import { supportsRetention } from "./evt-log-retention.js";
import { type RetentionPolicy, resolveRetentionPolicy } from "./retention-policy.js";
import type { SnapshotStore } from "./snapshot-store.js";
import { resolveSnapshotVersioning, type SnapshotVersioning } from "./snapshot-versioning.js";
import { validateTypeAndId } from "./validate.js";

/** Options of {@link runRetention}: the stores and policy of the entity type, as given to `Entity.spawn`. */
export interface RunRetentionOptions<E, S> {
  readonly evtLog: EvtLog;
  readonly snapshotStore: SnapshotStore;
  /** Decodes the newest snapshot before anything is deleted. Default: `jsonBinarizer()`. */
  readonly binarizer?: Binarizer<E, S> | undefined;
  /**
   * `keepSnapshots`, `horizon`, `batchSize` and `pacing` apply; `deleteEvents` is implied. Give a shared
   * `DeletionPacer` as `pacing` to pace a sweep over many entities as a whole.
   */
  readonly policy: RetentionPolicy<E>;
  readonly snapshotVersion?: SnapshotVersioning | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Runs retention for one entity now, outside any running entity: what an entity with a `retention`
 * policy does in the background after each snapshot. For operations (a sweep over existing entities after
 * turning retention on) and tests. Safe while the entity runs and from several processes at once.
 * Rejects, before deleting anything, with `InvalidArgumentError` for a bad type or id, options that are
 * not an object, a log that cannot delete events, no snapshot store, a policy breaking the rules of
 * `RetentionPolicy` or a `signal` that is not an `AbortSignal`; and with `DecodeError` when the newest
 * snapshot cannot be decoded (then nothing is deleted).
 */
export async function runRetention<E, S>(
  type: string,
  id: string,
  options: RunRetentionOptions<E, S>,
): Promise<RetentionOutcome> {
  validateTypeAndId(type, id);
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`runRetention options must be an object, got ${String(options)}`);
  }
  const { evtLog, snapshotStore, signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError("runRetention: signal must be an AbortSignal");
  }
  // The policy as given is checked first (a "false" string is an error, not deletion turned on).
  const policy = resolveRetentionPolicy(options.policy);
  if (evtLog === undefined || !supportsRetention(evtLog)) {
    throw new InvalidArgumentError("runRetention needs an evtLog that can delete events (EvtLogRetention)");
  }
  if (snapshotStore === undefined) throw new InvalidArgumentError("runRetention needs a snapshotStore");
  return applyRetention(
    {
      typeName: type,
      evtLog,
      snapshotStore,
      binarizer: options.binarizer ?? jsonBinarizer<E, S>(),
      versioning: resolveSnapshotVersioning(options.snapshotVersion),
      policy: { ...policy, deleteEvents: true },
    },
    id,
    signal,
  );
}
