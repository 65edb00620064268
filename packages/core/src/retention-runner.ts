import { applyRetention, type RetentionContext, type RetentionOutcome } from "./apply-retention.js";
import { type Deferred, deferred } from "./deferred.js";
import { deleteEntity, type EntityDeleted } from "./delete-entity.js";
import { HurriablePacer } from "./deletion-pacer.js";
import type { EvtLog } from "./evt-log.js";
import { supportsRetention } from "./evt-log-retention.js";
import type { Logger } from "./logger.js";
import type { SnapshotStore } from "./snapshot-store.js";

/** Counters of a {@link RetentionRunner}. */
export interface RetentionStats {
  /** Retention runs (after a snapshot) finished. */
  readonly runs: number;
  /** Entity deletions (after a tombstone) finished. */
  readonly erasures: number;
  /** Runs and erasures that failed (logged as warnings; the next one retries). */
  readonly failures: number;
  /** Events (or NATS messages) removed. */
  readonly removed: number;
}

/** What a {@link RetentionRunner} works with: a retention context whose snapshot store is optional. */
export type RetentionRunnerContext<E, S> = Omit<RetentionContext<E, S>, "snapshotStore"> & {
  readonly snapshotStore: SnapshotStore | undefined;
};

/** The work queued for one entity. */
interface Job {
  readonly id: string;
  /** The log of the entity that asked last (a registry's `evtLogFor` may give ids different logs). */
  evtLog: EvtLog;
  retention: boolean;
  /** Delete everything before this seqNo (a tombstone's). */
  eraseBefore: number | undefined;
  readonly done: Deferred<void>;
  /** Aborted when the entity stops: the rest of the job runs unpaced. */
  readonly hurry: AbortController;
}

/**
 * Runs retention and entity deletion for one entity type in the background, one entity at a time, off
 * the command path: entities only enqueue (after a snapshot was saved, or a tombstone persisted) and never
 * wait, except `stop()`, which waits for the entity's own queued work. Requests for an entity that is
 * already queued merge into its job. Deletion is paced by the policy's pacer (ADR 0115) until the entity
 * stops: then `stop()` hurries its queued work, which finishes unpaced. A registry's automatic
 * passivation leaves the work queued and paced instead; the id's next recovery hurries and waits for it,
 * and the registry's `close()` for all (ADR 0120). Failures are logged and counted, never thrown: the next request (the next
 * snapshot, the next recovery) retries.
 */
export class RetentionRunner<E, S> {
  readonly #ctx: RetentionRunnerContext<E, S>;
  readonly #logger: Logger;
  readonly #queue: Job[] = [];
  readonly #byId = new Map<string, Job>();
  #running: Job | undefined;
  #draining = false;
  /** Hurried jobs taken out of the line (see `idleFor`), running beside the one the queue runs. */
  readonly #outOfLine = new Map<string, Job>();
  #runs = 0;
  #erasures = 0;
  #failures = 0;
  #removed = 0;

  constructor(ctx: RetentionRunnerContext<E, S>, logger: Logger) {
    this.#ctx = ctx;
    this.#logger = logger;
  }

  get stats(): RetentionStats {
    return { runs: this.#runs, erasures: this.#erasures, failures: this.#failures, removed: this.#removed };
  }

  /** After a snapshot of `id` (on `evtLog`, default the runner's) was saved: delete what the policy allows. */
  requestRetention(id: string, evtLog: EvtLog = this.#ctx.evtLog): void {
    if (!this.#ctx.policy.deleteEvents || this.#ctx.snapshotStore === undefined) return;
    this.#job(id, evtLog).retention = true;
  }

  /**
   * After entity `id` (on `evtLog`, default the runner's) persisted a tombstone at `tombstoneSeqNo`: delete
   * its snapshots and the events before it.
   */
  requestErase(id: string, tombstoneSeqNo: number, evtLog: EvtLog = this.#ctx.evtLog): void {
    const job = this.#job(id, evtLog);
    job.eraseBefore = Math.max(job.eraseBefore ?? 0, tombstoneSeqNo);
  }

  /** True when work for `id` is queued or running. */
  busyWith(id: string): boolean {
    return this.#running?.id === id || this.#byId.has(id) || this.#outOfLine.has(id);
  }

  /** Resolves once nothing is queued or running; everything left runs unpaced from now on (a closing registry). */
  async idle(): Promise<void> {
    while (this.#running !== undefined || this.#queue.length > 0 || this.#outOfLine.size > 0) {
      const jobs = [...(this.#running ? [this.#running] : []), ...this.#queue, ...this.#outOfLine.values()];
      for (const job of jobs) job.hurry.abort();
      await Promise.all(jobs.map((job) => job.done.promise));
    }
  }

  /**
   * Resolves when no work for `id` is queued or running; what is left of it runs unpaced from now on
   * (the entity is stopping, or being recovered: it should not wait for the pacing, and an erasure must
   * still complete). Queued work for `id` leaves the line and runs at once, beside what the queue is
   * running: it does not wait for other entities' paced work.
   */
  async idleFor(id: string): Promise<void> {
    const running = this.#running?.id === id ? this.#running : undefined;
    const queued = this.#byId.get(id);
    const outOfLine = this.#outOfLine.get(id);
    for (const job of [running, queued, outOfLine]) job?.hurry.abort();
    // The id's own earlier work first: its jobs run one after another.
    await Promise.all([running?.done.promise, outOfLine?.done.promise]);
    if (queued !== undefined && this.#byId.get(id) === queued) {
      this.#byId.delete(id);
      this.#queue.splice(this.#queue.indexOf(queued), 1);
      this.#outOfLine.set(id, queued);
      try {
        await this.#execute(queued);
      } finally {
        this.#outOfLine.delete(id);
        queued.done.resolve();
      }
    }
    await queued?.done.promise;
  }

  #job(id: string, evtLog: EvtLog): Job {
    let job = this.#byId.get(id);
    if (job !== undefined) job.evtLog = evtLog;
    if (job === undefined) {
      job = {
        id,
        evtLog,
        retention: false,
        eraseBefore: undefined,
        done: deferred<void>(),
        hurry: new AbortController(),
      };
      this.#byId.set(id, job);
      this.#queue.push(job);
      // Started from a later event-loop turn: the command that asked must be answered first.
      if (this.#queue.length === 1 && this.#running === undefined) setImmediate(() => void this.#drain());
    }
    return job;
  }

  async #drain(): Promise<void> {
    // A job taken out of the line can leave the queue empty and let a later job schedule a second drain.
    if (this.#draining) return;
    this.#draining = true;
    for (let job = this.#queue.shift(); job !== undefined; job = this.#queue.shift()) {
      this.#byId.delete(job.id);
      this.#running = job;
      try {
        // Work for the same id taken out of the line goes first.
        await this.#outOfLine.get(job.id)?.done.promise;
        await this.#execute(job);
      } finally {
        this.#running = undefined;
        job.done.resolve();
      }
    }
    this.#draining = false;
  }

  async #execute(job: Job): Promise<void> {
    const { typeName: type, snapshotStore, policy } = this.#ctx;
    const evtLog = job.evtLog;
    const fields = { type, id: job.id };
    if (!supportsRetention(evtLog)) {
      // Only a registry's `evtLogFor` can give an entity a log other than the one checked at construction.
      this.#failures++;
      this.#logger.warn(
        "the entity's event log cannot delete events; its background deletion is skipped",
        fields,
      );
      return;
    }
    const pacer = new HurriablePacer(policy.pacer, job.hurry.signal);
    if (job.eraseBefore !== undefined) {
      try {
        const erased: EntityDeleted = await deleteEntity(type, job.id, {
          evtLog,
          snapshotStore,
          toSeqNo: job.eraseBefore - 1,
          horizon: policy.horizon,
          batchSize: policy.batchSize,
          // One budget for the type's retention runs and erasures alike.
          pacing: pacer,
        });
        this.#erasures++;
        this.#removed += erased.removed;
        if (!erased.complete) {
          this.#logger.warn(
            "entity deletion held back by a projection; it completes at the entity's next recovery",
            {
              ...fields,
              deletedTo: erased.deletedTo,
              tombstoneSeqNo: job.eraseBefore,
            },
          );
        }
      } catch (error) {
        this.#failures++;
        this.#logger.warn("entity deletion failed; it is retried at the entity's next recovery", {
          ...fields,
          error,
        });
      }
      // The snapshots are gone with the entity's data: nothing left for retention to do.
      return;
    }
    if (!job.retention || snapshotStore === undefined) return;
    try {
      const outcome: RetentionOutcome = await applyRetention(
        { ...this.#ctx, evtLog, snapshotStore, policy: { ...policy, pacer } },
        job.id,
      );
      this.#runs++;
      this.#removed += outcome.removed;
      this.#logger.debug("retention ran", { ...fields, ...outcome });
    } catch (error) {
      this.#failures++;
      this.#logger.warn("retention failed; the next snapshot retries it", { ...fields, error });
    }
  }
}
