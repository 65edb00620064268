import { type DeletionPacer, type DeletionPacing, deletionPacer } from "./deletion-pacer.js";
import { InvalidArgumentError } from "./errors/index.js";
import type { RetentionHorizon } from "./retention-horizon.js";

/**
 * What happens to an entity's old events and snapshots, with Akka's `RetentionCriteria` semantics: a
 * snapshot every `snapshotEvery` events, the newest `keepSnapshots` snapshots kept, and (with
 * `deleteEvents`) the events up to the oldest kept snapshot deleted, so that every kept snapshot can still
 * start a recovery. Deletion runs in the background after a snapshot was saved, read back and decoded,
 * never past the `horizon`, in batches of at most `batchSize` events, paced by `pacing` (by default at most
 * 60,000 events/s, one batch at a time, per entity type).
 *
 * `isTombstone` marks the event that deletes an entity (e.g. for personal data): once a command emitted
 * one, the entity's snapshots and every event before the tombstone are deleted in the background (the
 * tombstone itself stays, so the entity's seqNos never start over), and recovery starts at the tombstone.
 */
export interface RetentionPolicy<E> {
  /** Save a snapshot whenever the seqNo crosses a multiple of this (replaces `snapshotAfter`). */
  readonly snapshotEvery?: number | undefined;
  /** Snapshots kept per entity (the store must keep at least as many: its `history`). Default 1. */
  readonly keepSnapshots?: number | undefined;
  /** Delete the events up to the oldest kept snapshot after each snapshot. Default false. */
  readonly deleteEvents?: boolean | undefined;
  /** The projections' progress: no event is deleted before every registered projection processed it. */
  readonly horizon?: RetentionHorizon | undefined;
  /** Most events deleted by one call to the log. Default 1,000. */
  readonly batchSize?: number | undefined;
  /**
   * How fast deletion may go: settings (`maxEventsPerSecond`, `pauseMs`, `concurrency`; see
   * {@link DeletionPacing} for the defaults), or a {@link DeletionPacer} shared with other entity types
   * and operations calls to hold them all to one budget. The settings give one budget per entity type
   * in a registry or `spawnMany` call, and one per `Entity.spawn`.
   */
  readonly pacing?: DeletionPacing | DeletionPacer | undefined;
  /** True for the event that deletes the entity (see above). */
  readonly isTombstone?: ((evt: E) => boolean) | undefined;
}

/** {@link RetentionPolicy} with defaults applied. */
export interface ResolvedRetentionPolicy<E> {
  readonly snapshotEvery: number | undefined;
  readonly keepSnapshots: number;
  readonly deleteEvents: boolean;
  readonly horizon: RetentionHorizon | undefined;
  readonly batchSize: number;
  readonly pacer: DeletionPacer;
  readonly isTombstone: ((evt: E) => boolean) | undefined;
}

const DEFAULT_BATCH_SIZE = 1_000;

function positiveInteger(name: string, value: number | undefined, fallback: number | undefined) {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`retention.${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

/**
 * Validates the policy and applies its defaults (`InvalidArgumentError` naming the field): counts are
 * integers >= 1, `deleteEvents` a boolean, `isTombstone` a function, `horizon` has `lowestPosition`,
 * `pacing` follows the rules of {@link DeletionPacing}.
 */
export function resolveRetentionPolicy<E>(policy: RetentionPolicy<E>): ResolvedRetentionPolicy<E> {
  if (typeof policy !== "object" || policy === null) {
    throw new InvalidArgumentError("retention must be an object");
  }
  if (policy.isTombstone !== undefined && typeof policy.isTombstone !== "function") {
    throw new InvalidArgumentError("retention.isTombstone must be a function");
  }
  if (policy.deleteEvents !== undefined && typeof policy.deleteEvents !== "boolean") {
    // A truthy string such as "false" must not turn deletion on.
    throw new InvalidArgumentError(
      `retention.deleteEvents must be a boolean, got ${JSON.stringify(policy.deleteEvents)}`,
    );
  }
  if (policy.horizon !== undefined && typeof policy.horizon?.lowestPosition !== "function") {
    throw new InvalidArgumentError("retention.horizon must have a lowestPosition(type) method");
  }
  return Object.freeze({
    snapshotEvery: positiveInteger("snapshotEvery", policy.snapshotEvery, undefined),
    keepSnapshots: positiveInteger("keepSnapshots", policy.keepSnapshots, 1) as number,
    deleteEvents: policy.deleteEvents ?? false,
    horizon: policy.horizon,
    batchSize: positiveInteger("batchSize", policy.batchSize, DEFAULT_BATCH_SIZE) as number,
    pacer: deletionPacer(policy.pacing, "retention.pacing"),
    isTombstone: policy.isTombstone,
  });
}
