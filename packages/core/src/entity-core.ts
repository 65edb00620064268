import type { EntityConfig } from "./entity-config.js";
import { EntityLifecycle } from "./entity-lifecycle.js";
import type { DuplicateResult } from "./entity-ref.js";
import type { CmdResult, CmdSpec } from "./event-sourced.js";
import { type AppliedKey, IdempotencyWindow } from "./idempotency-window.js";
import type { Recovered } from "./recovery.js";
import { SnapshotScheduler } from "./snapshot-scheduler.js";

/** What a command of an entity resolves to: a reply, a rejection or a duplicate. */
// biome-ignore lint/suspicious/noExplicitAny: the actor serves any reply and rejection of its protocol
export type AnyResult = CmdResult<any, any> | DuplicateResult;

// The policy of a scheduler created only for a snapshot on stop: nothing else is due.
const NEVER_DUE = (): boolean => false;

/**
 * What one entity knows (its state, seqNo and applied idempotency keys), counts, and has running off the
 * reply path (snapshot saves, a deletion after a tombstone), shared by the parts of the actor: the command
 * path (`entity-command.ts`), the re-synchronisation (`entity-resync.ts`) and the actor's loop. Only that
 * loop touches it, so no locking is needed. The window of keys and the snapshot scheduler are created on
 * first use.
 */
export class EntityCore<S, E, P extends CmdSpec> {
  readonly config: EntityConfig<S, E, P>;
  readonly id: string;
  readonly lifecycle: EntityLifecycle;
  state: S;
  seqNo: number;
  // The seqNo the entity was recovered at: a snapshot on stop is only worth saving beyond it.
  readonly recoveredSeqNo: number;
  // True when the log may know more than we do (a failed persist, a conflict): re-read before the next command.
  stale = false;
  keys: IdempotencyWindow | undefined;
  snapshots: SnapshotScheduler<S> | undefined;
  // Set while a re-synchronisation waits out a backoff: makes it try again at once.
  wakeResync: (() => void) | undefined;
  // A tombstone's deletion, requested once the snapshot saves under way are done.
  #erasing: Promise<void> | undefined;
  accepted = 0;
  rejected = 0;
  persistFailures = 0;
  conflictRetries = 0;
  resyncs = 0;

  constructor(
    config: EntityConfig<S, E, P>,
    id: string,
    recovered: Recovered<S>,
    keys?: IdempotencyWindow | undefined,
  ) {
    this.config = config;
    this.id = id;
    this.lifecycle = new EntityLifecycle(config.typeName, id);
    this.state = recovered.state;
    this.seqNo = recovered.seqNo;
    this.recoveredSeqNo = recovered.seqNo;
    this.keys = keys;
  }

  get typeName(): string {
    return this.config.typeName;
  }

  describe(): string {
    return `${this.typeName}/${JSON.stringify(this.id)}`;
  }

  /** Remembers an applied idempotency key; the window is created with the first one. */
  recordKey(key: string, applied: AppliedKey): void {
    const { maxKeys, maxAgeMs } = this.config.idempotency;
    this.keys ??= new IdempotencyWindow(maxKeys, maxAgeMs);
    this.keys.record(key, applied);
  }

  /** A sink for the keys of events folded while catching up (allocated only then). */
  onKey(): (key: string, applied: AppliedKey) => void {
    return (key, applied) => this.recordKey(key, applied);
  }

  /** The entity's snapshot scheduler, created on first use. */
  scheduler(): SnapshotScheduler<S> {
    const { snapshotStore, snapshotAfter, binarizer, logger, versioning, retention } = this.config;
    this.snapshots ??= new SnapshotScheduler(
      this.typeName,
      this.id,
      snapshotStore!,
      binarizer,
      snapshotAfter ?? NEVER_DUE,
      logger,
      versioning.current,
      retention === undefined ? undefined : () => retention.requestRetention(this.id, this.config.evtLog),
    );
    return this.snapshots;
  }

  /**
   * Asks for the entity's deletion after a tombstone, once the snapshot saves under way are done: one of
   * them may still hold the state from before the tombstone, and must not land after the deletion.
   */
  requestErase(tombstoneSeqNo: number): void {
    const retention = this.config.retention;
    if (retention === undefined) return;
    const snapshots = this.snapshots;
    const evtLog = this.config.evtLog;
    if (snapshots === undefined) retention.requestErase(this.id, tombstoneSeqNo, evtLog);
    else this.#erasing = snapshots.idle().then(() => retention.requestErase(this.id, tombstoneSeqNo, evtLog));
  }

  /**
   * What termination waits for: snapshot saves, then the background deletion they or a tombstone asked for
   * (hurried), unless the stop leaves that deletion to the retention runner (a registry's automatic
   * passivation).
   */
  pending(): { idle(): Promise<void> } | undefined {
    const retention = this.config.retention;
    if (retention === undefined) return this.snapshots;
    return {
      idle: async () => {
        await this.snapshots?.idle();
        await this.#erasing;
        if (!this.lifecycle.leavesDeletion) await retention.idleFor(this.id);
      },
    };
  }

  /** The entity failed for good: later commands get `EntityStoppedError` with `cause`. */
  fail(error: Error, cause: unknown): void {
    this.lifecycle.fail(error, cause, this.pending());
  }
}
