import { jsonBinarizer } from "./binarize/json.js";
import { EntityActor } from "./entity-actor.js";
import type { EntityRef, SpawnOptions } from "./entity-ref.js";
import { DecodeError, InvalidArgumentError, RecoveryError, SnapshotAheadOfLogError } from "./errors.js";
import type { EventSourced } from "./event-sourced.js";
import { consoleLogger } from "./logger.js";
import { recover } from "./recovery.js";
import { validateTypeAndId } from "./validate.js";

const DEFAULT_MAILBOX_SIZE = 1024;
const DEFAULT_MAX_CONFLICT_RETRIES = 3;
const DEFAULT_BACKOFF_INITIAL_MS = 50;
const DEFAULT_BACKOFF_MAX_MS = 5_000;

function integerOption(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Spawns entities. */
export const Entity = {
  /**
   * Recovers the entity `id` (latest snapshot, then exactly the events after it) and starts it as a
   * mailbox-serialized actor. Resolves once recovery has finished.
   *
   * Rejects with `InvalidArgumentError` (bad type name, id or option), `DecodeError` (a snapshot or event
   * cannot be decoded; names the seqNo), `SnapshotAheadOfLogError`, `RecoveryError` (reading failed or
   * `handleEvt` threw; `cause` says why), or `options.signal.reason` when aborted.
   * @example
   * const ref = await Entity.spawn("c-1", counter, { evtLog: new InMemoryEvtLog() });
   * const result = await ref.handleCmd({ inc: 2 });
   * if (result.kind === "accepted") console.log(result.reply, result.seqNo);
   */
  async spawn<S, C, E, R, J>(
    id: string,
    definition: EventSourced<S, C, E, R, J>,
    options: SpawnOptions<S, E>,
  ): Promise<EntityRef<C, R, J>> {
    const type = definition.typeName;
    validateTypeAndId(type, id);
    if (options?.evtLog === undefined) throw new InvalidArgumentError("Entity.spawn needs options.evtLog");
    const { snapshotAfter, snapshotStore, signal } = options;
    if (snapshotAfter !== undefined && typeof snapshotAfter !== "function") {
      integerOption("snapshotAfter", snapshotAfter, 1, 1);
    }
    const initialMs = options.retryBackoff?.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
    const maxMs = options.retryBackoff?.maxMs ?? Math.max(DEFAULT_BACKOFF_MAX_MS, initialMs);
    if (!(initialMs > 0) || !(maxMs >= initialMs)) {
      throw new InvalidArgumentError(
        `retryBackoff needs 0 < initialMs <= maxMs, got initialMs ${initialMs}, maxMs ${maxMs}`,
      );
    }
    const logger = options.logger ?? consoleLogger;
    if (snapshotAfter !== undefined && snapshotStore === undefined) {
      logger.warn("snapshotAfter is set but no snapshotStore is given: no snapshots are taken", { type, id });
    }
    const config = Object.freeze({
      id,
      definition,
      evtLog: options.evtLog,
      binarizer: options.binarizer ?? jsonBinarizer<E, S>(),
      snapshotStore,
      snapshotAfter,
      mailboxSize: integerOption("mailboxSize", options.mailboxSize, DEFAULT_MAILBOX_SIZE, 1),
      maxConflictRetries: integerOption(
        "maxConflictRetries",
        options.maxConflictRetries,
        DEFAULT_MAX_CONFLICT_RETRIES,
        0,
      ),
      backoffInitialMs: initialMs,
      backoffMaxMs: maxMs,
      logger,
    });

    signal?.throwIfAborted();
    try {
      const recovered = await recover(
        {
          type,
          id,
          definition,
          evtLog: config.evtLog,
          binarizer: config.binarizer,
          snapshotStore,
        },
        signal,
      );
      return new EntityActor(config, recovered);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      if (
        error instanceof DecodeError ||
        error instanceof SnapshotAheadOfLogError ||
        error instanceof RecoveryError ||
        error instanceof InvalidArgumentError
      ) {
        throw error;
      }
      throw new RecoveryError(type, id, { cause: error });
    }
  },
};
