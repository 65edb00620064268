import type { Logger } from "@eventsourced/core";
import { takeBatch } from "./batch-assembly.js";
import { type MutableGroupCommitStats, rejectAll } from "./batch-outcome.js";
import { CommitLane } from "./commit-lane.js";
import { describe, entityKey, type PendingPersist } from "./pending-persist.js";
import type { PersistHook } from "./persist-hook.js";
import type { PgPoolLike } from "./pg-pool-like.js";
import type { CommitStatements } from "./run-batch-statement.js";

/** Counters of the committer, for monitoring and tests. */
export interface GroupCommitStats {
  /** Batch statements sent (each one round trip, one transaction). */
  readonly batches: number;
  /** Persists acknowledged. */
  readonly persists: number;
  /** Events acknowledged. */
  readonly events: number;
  /** Persists refused with `SeqNoConflictError`. */
  readonly conflicts: number;
  /** Batches whose statement failed on something else and were retried persist by persist. */
  readonly fallbacks: number;
  /** Times the committer connection was lost and replaced. */
  readonly reconnects: number;
  /** The largest batch so far, in persists. */
  readonly maxBatch: number;
}

/** How the committer talks to the database. */
export interface GroupCommitterOptions {
  readonly pool: PgPoolLike;
  readonly statements: CommitStatements;
  /** The log's advisory-lock key (a decimal bigint, written into SQL as is). */
  readonly lockKey: string;
  /** Most persists per batch. */
  readonly maxBatchSize: number;
  /** Most events per batch (a single larger persist still goes alone). */
  readonly maxBatchEvents: number;
  /** Keep the connection between batches; false when the pool has one connection that readers need too. */
  readonly holdConnection: boolean;
  /** Batches written at the same time, each on a connection of its own (see {@link GroupCommitter}). */
  readonly lanes: number;
  readonly target: string;
  /** Each statement of a batch (`BEGIN`, the batch, `COMMIT`, the clean-up) fails after this long unanswered. */
  readonly queryTimeoutMs: number;
  readonly logger: Logger;
  /** Called after a batch committed, with the types written (wakes local live readers at once). */
  readonly onCommitted: (types: ReadonlySet<string>) => void;
  /** Runs inside each batch's transaction before it commits (inline projections); see `PersistHook`. */
  readonly inTransaction?: PersistHook | undefined;
}

/**
 * Group commit. Persists that arrive while batches are in flight queue up and go together in the next batch,
 * as one statement (see `persist-statement.ts`). A batch is started from a microtask, so persists issued in
 * the same tick share it even when the committer is idle.
 *
 * Up to `lanes` batches are in flight at once, each on a connection of its own (ADR 0116): while one batch
 * waits for its commit's WAL flush, the next one executes. A batch never holds a persist of an entity whose
 * persist is in another batch in flight (or two of one entity): that one waits for a later batch, so an
 * entity's persists are written in order, each after the previous one settled. When lanes are free and many
 * persists wait, they are shared between the free lanes.
 */
export class GroupCommitter {
  readonly #options: GroupCommitterOptions;
  #queue: PendingPersist[] = [];
  readonly #free: CommitLane[] = [];
  readonly #lanes: CommitLane[] = [];
  /** Entities (`type\0id`) with a persist in a batch in flight. */
  readonly #writing = new Set<string>();
  #inFlight = 0;
  #scheduled = false;
  #idle: (() => void)[] = [];
  #stats: MutableGroupCommitStats = {
    batches: 0,
    persists: 0,
    events: 0,
    conflicts: 0,
    fallbacks: 0,
    reconnects: 0,
    maxBatch: 0,
  };

  constructor(options: GroupCommitterOptions) {
    this.#options = options;
    for (let i = 0; i < Math.max(1, options.lanes); i++)
      this.#lanes.push(new CommitLane(options, this.#stats));
    this.#free.push(...this.#lanes);
  }

  get stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  /** Queues a persist; it settles once its batch committed (or failed). */
  enqueue(persist: PendingPersist): void {
    this.#queue.push(persist);
    this.#schedule();
  }

  /**
   * Gives up on what has not settled (the log's `close()` waited long enough): queued persists fail with a
   * known outcome (nothing was sent), batches in flight lose their connections (their persists fail with
   * an unknown outcome). A pending {@link close} then resolves once those batches have failed. With
   * `stopWaitingForConnections` (a pool passed in), a batch still waiting for a connection fails too.
   */
  abort(options: { readonly stopWaitingForConnections?: boolean } = {}): void {
    const queued = this.#queue;
    this.#queue = [];
    rejectAll(
      queued,
      (p) =>
        `cannot persist ${describe(p)}: the event log closed before the write was sent; nothing was sent`,
      false,
      undefined,
    );
    for (const lane of this.#lanes) lane.abort(options.stopWaitingForConnections === true);
    if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves once every queued persist has settled, then releases the connections. */
  async close(): Promise<void> {
    if (this.#inFlight > 0 || this.#queue.length > 0 || this.#scheduled) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    for (const lane of this.#lanes) lane.release();
  }

  #schedule(): void {
    if (this.#scheduled || this.#free.length === 0) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#start());
  }

  /**
   * Starts batches on free lanes. With no batch in flight, everything waiting goes (up to `maxBatchSize`);
   * while one is in flight, another lane starts only once at least {@link MIN_SHARED_BATCH} persists wait,
   * since the log lock serialises the statements' execution and a small batch beside a large one would
   * only add a statement's fixed cost. A burst that fills two such batches is shared between the free lanes.
   */
  #start(): void {
    this.#scheduled = false;
    while (this.#free.length > 0 && this.#queue.length > 0) {
      const waiting = this.#queue.length;
      if (this.#inFlight > 0 && waiting < MIN_SHARED_BATCH) break;
      const max =
        waiting >= 2 * MIN_SHARED_BATCH
          ? Math.max(MIN_SHARED_BATCH, Math.ceil(waiting / this.#free.length))
          : this.#options.maxBatchSize;
      const batch = this.#take(Math.min(max, this.#options.maxBatchSize));
      if (batch.length === 0) break;
      void this.#write(this.#free.pop()!, batch);
    }
    if (this.#inFlight === 0 && this.#queue.length === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  #take(max: number): PendingPersist[] {
    const { batch, rest } = takeBatch(this.#queue, max, this.#options.maxBatchEvents, this.#writing);
    this.#queue = rest;
    return batch;
  }

  async #write(lane: CommitLane, batch: PendingPersist[]): Promise<void> {
    this.#inFlight++;
    try {
      await lane.write(batch, true);
    } finally {
      for (const p of batch) this.#writing.delete(entityKey(p));
      this.#inFlight--;
      this.#free.push(lane);
      if (this.#queue.length === 0) this.#start();
      else this.#startAfterReplies();
    }
  }

  /**
   * After a batch committed while others waited: starts the next batch once the committed batch's callers
   * have reacted, so that the persists they issue in reaction (each entity's next command, several promise
   * reactions later) join the waiting ones. Started at once, the waiting ones went alone and the returning
   * ones queued behind them: entities whose first commands arrived in two waves (a registry recovering each
   * as it is first addressed) kept writing two half batches per round for good, at 0.65-0.8x the commands/s
   * of one (ADR 0126). `setImmediate` runs after the microtasks; meanwhile enqueues start nothing
   * (`#scheduled`). With nothing waiting (the steady state of every benchmark) nothing changes.
   */
  #startAfterReplies(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#start());
  }
}

/**
 * Fewest persists for which a second lane starts while a batch is in flight (and half the fewest a burst is
 * shared for). Measured with closed-loop counters (ADR 0116, ADR 0114, then ADR 0119 for this value): at
 * 1,000 entities two lanes gave 78-89k against 62-67k commands/s on one; at 300 entities bursts shared as
 * 2 x 150 gave 10-30 % more than one batch; at 100 entities halves of 50 cost about 40 % more Node CPU per
 * command and a higher p99 than one batch of 100 for no steady gain in throughput, so 100 stays one batch.
 */
const MIN_SHARED_BATCH = 100;
