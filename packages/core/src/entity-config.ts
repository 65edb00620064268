import { Backoff } from "./backoff.js";
import { jsonBinarizer } from "./binarize/json.js";
import type { Binarizer } from "./binarizer.js";
import type {
  DuplicateResult,
  EntityRef,
  HandleCmdOptions,
  IdempotentCmdOptions,
  SnapshotPolicy,
  SpawnOptions,
} from "./entity-ref.js";
import { InvalidArgumentError } from "./errors/index.js";
import type { CmdResult, CmdSpec, EventSourced } from "./event-sourced.js";
import type { EvtLog } from "./evt-log.js";
import { type EvtLogRetention, supportsRetention } from "./evt-log-retention.js";
import { guardInstrumentation, warnOnHookFailure } from "./instrumentation/guard-instrumentation.js";
import type { Instrumentation } from "./instrumentation/instrumentation.js";
import { consoleLogger, guardedLogger, type Logger } from "./logger.js";
import type { RecoverySource } from "./recovery.js";
import { type ResolvedRetentionPolicy, resolveRetentionPolicy } from "./retention-policy.js";
import { RetentionRunner } from "./retention-runner.js";
import type { SnapshotStore } from "./snapshot-store.js";
import { type ResolvedSnapshotVersioning, resolveSnapshotVersioning } from "./snapshot-versioning.js";
import { validateSpawnOptionShapes } from "./spawn-option-shapes.js";
import { validateDefinition } from "./validate.js";

const DEFAULT_MAILBOX_SIZE = 1024;
const DEFAULT_MAX_CONFLICT_RETRIES = 3;
const DEFAULT_MAX_KEYS = 1_000;

/**
 * Everything an entity needs besides its id, defaults applied and validated once. Entities spawned with
 * the same options (for example by one registry) share one config, so it costs nothing per entity.
 */
export interface EntityConfig<S, E, P extends CmdSpec> {
  readonly typeName: string;
  readonly definition: EventSourced<S, E, P>;
  readonly evtLog: EvtLog;
  readonly binarizer: Binarizer<E, S>;
  readonly snapshotStore: SnapshotStore | undefined;
  readonly snapshotAfter: SnapshotPolicy<S> | undefined;
  readonly mailboxSize: number;
  readonly maxConflictRetries: number;
  readonly retryBackoff: { readonly initialMs: number; readonly maxMs: number };
  readonly freshReads: boolean;
  readonly idempotency: {
    readonly maxKeys: number;
    readonly maxAgeMs: number;
    /** Events read back before a snapshot at recovery to rebuild the window (0: only the tail). */
    readonly lookback: number;
  };
  /** Which snapshot versions are written and read. */
  readonly versioning: ResolvedSnapshotVersioning;
  /** Background deletion (retention, entity deletion), when a `retention` policy asks for any. */
  readonly retention: RetentionRunner<E, S> | undefined;
  /** The policy's tombstone predicate, if any. */
  readonly isTombstone: ((evt: E) => boolean) | undefined;
  readonly logger: Logger;
  /** The hooks, or undefined: the hot path then makes no call and reads no clock. */
  readonly instrumentation: Instrumentation | undefined;
  /**
   * Where a command goes that an entity accepted but never took, because it failed first (its log could
   * not be re-read): the registry sets it and hands the command to the next incarnation. Unset (as
   * `entityConfig` leaves it), such a command rejects with `EntityStoppedError`.
   */
  readonly passOn?:
    | ((
        ref: EntityRef<P>,
        cmd: P["cmd"],
        options: HandleCmdOptions | IdempotentCmdOptions | undefined,
      ) => Promise<CmdResult<P["reply"], P["rejection"]> | DuplicateResult>)
    | undefined;
}

function integerOption(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Validates spawn options and applies their defaults; throws `InvalidArgumentError` naming the option. */
export function entityConfig<S, E, P extends CmdSpec>(
  definition: EventSourced<S, E, P>,
  options: Omit<SpawnOptions<S, E>, "signal">,
): EntityConfig<S, E, P> {
  validateDefinition(definition);
  validateSpawnOptionShapes(options);
  const { snapshotStore } = options;
  const policy = options.retention === undefined ? undefined : resolveRetentionPolicy(options.retention);
  if (policy?.snapshotEvery !== undefined && options.snapshotAfter !== undefined) {
    throw new InvalidArgumentError("give either snapshotAfter or retention.snapshotEvery, not both");
  }
  const snapshotAfter = policy?.snapshotEvery ?? options.snapshotAfter;
  if (snapshotAfter !== undefined && typeof snapshotAfter !== "function") {
    integerOption("snapshotAfter", snapshotAfter, 1, 1);
  }
  // Validates the backoff options (and their relation) once, here.
  const backoff = new Backoff(options.retryBackoff);
  // Guarded: a logger that throws must not break the entity's bookkeeping around the line it logs.
  const logger = options.logger === undefined ? consoleLogger : guardedLogger(options.logger);
  const idempotency = options.idempotency;
  const maxKeys = integerOption("idempotency.maxKeys", idempotency?.maxKeys, DEFAULT_MAX_KEYS, 0);
  const maxAgeMs = idempotency?.maxAgeMs ?? Number.POSITIVE_INFINITY;
  if (!(maxAgeMs > 0)) {
    throw new InvalidArgumentError(`idempotency.maxAgeMs must be > 0, got ${String(maxAgeMs)}`);
  }
  if (snapshotAfter !== undefined && snapshotStore === undefined) {
    logger.warn("snapshotAfter is set but no snapshotStore is given: no snapshots are taken", {
      type: definition.typeName,
    });
  }
  const binarizer = options.binarizer ?? jsonBinarizer<E, S>();
  const versioning = resolveSnapshotVersioning(options.snapshotVersion);
  let retention: RetentionRunner<E, S> | undefined;
  if (policy !== undefined && (policy.deleteEvents || policy.isTombstone !== undefined)) {
    const evtLog = options.evtLog;
    checkRetentionStores(evtLog, snapshotStore, policy);
    retention = new RetentionRunner(
      { typeName: definition.typeName, evtLog, snapshotStore, binarizer, versioning, policy },
      logger,
    );
  }
  return Object.freeze({
    typeName: definition.typeName,
    definition,
    evtLog: options.evtLog,
    binarizer,
    snapshotStore,
    snapshotAfter: snapshotStore === undefined ? undefined : snapshotAfter,
    mailboxSize: integerOption("mailboxSize", options.mailboxSize, DEFAULT_MAILBOX_SIZE, 1),
    maxConflictRetries: integerOption(
      "maxConflictRetries",
      options.maxConflictRetries,
      DEFAULT_MAX_CONFLICT_RETRIES,
      0,
    ),
    retryBackoff: { initialMs: backoff.initialMs, maxMs: backoff.maxMs },
    freshReads: options.freshReads ?? false,
    // An explicit window is rebuilt in full at recovery, even across a snapshot; the default one only from
    // the events recovery replays anyway.
    idempotency: { maxKeys, maxAgeMs, lookback: idempotency === undefined ? 0 : maxKeys },
    versioning,
    retention,
    isTombstone: policy?.isTombstone,
    logger,
    instrumentation:
      options.instrumentation === undefined
        ? undefined
        : guardInstrumentation(options.instrumentation, warnOnHookFailure(logger)),
  });
}

/** What deleting events needs from the log and the snapshot store (`InvalidArgumentError` otherwise). */
function checkRetentionStores<E>(
  evtLog: EvtLog,
  snapshotStore: SnapshotStore | undefined,
  policy: ResolvedRetentionPolicy<E>,
): asserts evtLog is EvtLog & EvtLogRetention {
  const { keepSnapshots } = policy;
  if (!supportsRetention(evtLog)) {
    throw new InvalidArgumentError(
      "retention deletes events, but the evtLog cannot (it lacks EvtLogRetention)",
    );
  }
  if (
    policy.isTombstone !== undefined &&
    snapshotStore !== undefined &&
    snapshotStore.deleteAll === undefined
  ) {
    throw new InvalidArgumentError("retention.isTombstone needs a snapshot store that can deleteAll");
  }
  if (policy.deleteEvents) {
    if (snapshotStore === undefined) {
      throw new InvalidArgumentError("retention.deleteEvents needs a snapshotStore");
    }
    const history = snapshotStore.history ?? 1;
    if (keepSnapshots > history || (keepSnapshots > 1 && snapshotStore.loadAll === undefined)) {
      throw new InvalidArgumentError(
        `retention.keepSnapshots is ${keepSnapshots}, but the snapshot store keeps ${history} per entity (raise its history)`,
      );
    }
  }
}

/** Where the entity `id` of `config` recovers from. */
export function recoverySource<S, E, P extends CmdSpec>(
  config: EntityConfig<S, E, P>,
  id: string,
  onKey?: RecoverySource<S, E>["onKey"],
): RecoverySource<S, E> {
  return {
    onKey,
    keyLookback: config.idempotency.lookback,
    type: config.typeName,
    id,
    definition: config.definition,
    evtLog: config.evtLog,
    binarizer: config.binarizer,
    snapshotStore: config.snapshotStore,
    versioning: config.versioning,
    isTombstone: config.isTombstone,
    logger: config.logger,
  };
}
