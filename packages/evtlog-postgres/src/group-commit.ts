import type { Logger } from "@eventsourced/core";
import { batchValues, soleEvent, takeBatch } from "./batch-assembly.js";
import { rejectLostFences } from "./batch-fences.js";
import {
  type MutableGroupCommitStats,
  rejectAll,
  rejectRefused,
  rejectUnretriable,
  settleCommitted,
} from "./batch-outcome.js";
import { checkOut } from "./check-out.js";
import { describe, type PendingPersist, reason } from "./pending-persist.js";
import type { FenceCheck } from "./persist-fence.js";
import { HookRefused, hookError, type PersistHook, runHook } from "./persist-hook.js";
import { classifyQueryFailure, connectionError, isConnectFailure } from "./pg-errors.js";
import type { PgClientLike, PgPoolLike } from "./pg-pool-like.js";
import { type BatchResult, type CommitStatements, runBatchStatement } from "./run-batch-statement.js";

/**
 * Starts a batch's explicit transaction (inline-projection hook, strict fencing). A batch's transaction is never
 * idle for long unless its process stopped (SIGSTOP, a frozen VM): the server then ends the session after
 * 10 s, so the transaction does not hold back by-type readers server-wide (ADR 0108) or a lease takeover
 * waiting for its fence check's row locks (ADR 0086) indefinitely. Its persists fail with an unknown outcome.
 */
const BEGIN = "BEGIN; SET LOCAL idle_in_transaction_session_timeout = 10000";

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
  readonly target: string;
  readonly logger: Logger;
  /** Called after a batch committed, with the types written (wakes local live readers at once). */
  readonly onCommitted: (types: ReadonlySet<string>) => void;
  /** Runs inside each batch's transaction before it commits (inline projections); see `PersistHook`. */
  readonly inTransaction?: PersistHook | undefined;
  /** Strict fencing: checks the fences of a batch in its transaction, before the write. */
  readonly fenceCheck?: FenceCheck | undefined;
}

/**
 * Group commit: one committer, one connection. Persists that arrive while a batch is in flight queue up
 * and go together in the next batch, as one statement (see `persist-statement.ts`). A batch is started
 * from a microtask, so persists issued in the same tick share it even when the committer is idle.
 */
export class GroupCommitter {
  readonly #options: GroupCommitterOptions;
  #queue: PendingPersist[] = [];
  #running = false;
  #client: PgClientLike | undefined;
  #onClientError = (err: Error) => {
    // An idle held connection died (e.g. terminated backend). Drop it; the next batch reconnects.
    this.#options.logger.warn("event log committer connection lost while idle", { error: err.message });
    this.#discardClient(err);
  };
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
  }

  get stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  /** Queues a persist; it settles once its batch committed (or failed). */
  enqueue(persist: PendingPersist): void {
    this.#queue.push(persist);
    if (!this.#running) {
      this.#running = true;
      queueMicrotask(() => void this.#drain());
    }
  }

  /** Resolves once every queued persist has settled, then releases the connection. */
  async close(): Promise<void> {
    if (this.#running) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#client !== undefined) {
      this.#client.removeListener("error", this.#onClientError);
      this.#client.release();
      this.#client = undefined;
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        await this.#write(this.#takeBatch(), true);
      }
    } finally {
      this.#running = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /** The next batch: FIFO, at most one persist per entity (a second one waits for the next batch). */
  #takeBatch(): PendingPersist[] {
    const { batch, rest } = takeBatch(this.#queue, this.#options.maxBatchSize, this.#options.maxBatchEvents);
    this.#queue = rest;
    return batch;
  }

  async #acquire(): Promise<PgClientLike> {
    if (this.#client !== undefined) return this.#client;
    // Listening from the hand-over on: a connection dying right then must not crash the process.
    const client = await checkOut(this.#options.pool, this.#onClientError);
    this.#client = client;
    return client;
  }

  #releaseAfterBatch(): void {
    if (this.#options.holdConnection || this.#client === undefined) return;
    this.#client.removeListener("error", this.#onClientError);
    this.#client.release();
    this.#client = undefined;
  }

  #discardClient(err: Error): void {
    const client = this.#client;
    if (client === undefined) return;
    this.#client = undefined;
    this.#stats.reconnects++;
    client.removeListener("error", this.#onClientError);
    // Keep a no-op listener: a destroyed socket may still emit errors after release.
    client.on("error", () => {});
    client.release(err);
  }

  /**
   * After a failed batch on a connection that is still up: ends the explicit transaction (a failed statement
   * aborted it) and releases the log's session-level advisory lock, which a statement that failed after
   * taking it still holds. If even that fails, the connection is discarded: its session, and the lock with
   * it, end on the server.
   */
  async #rollBack(client: PgClientLike, inTransaction: boolean): Promise<void> {
    try {
      await client.query(`${inTransaction ? "ROLLBACK; " : ""}SELECT pg_advisory_unlock_all()`);
    } catch (err) {
      if (this.#client === client) this.#discardClient(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Writes `batch` and settles each persist. When the statement fails on something other than a lost
   * connection, nothing was written (one statement, one transaction), so with `fallback` each persist is
   * retried alone: an unexpected failure caused by one persist then fails that persist only.
   */
  async #write(toWrite: PendingPersist[], fallback: boolean): Promise<void> {
    let batch = toWrite;
    let client: PgClientLike;
    try {
      client = await this.#acquire();
    } catch (err) {
      const cause = isConnectFailure(err) ? connectionError(err, this.#options.target) : err;
      rejectAll(batch, () => `cannot persist to ${this.#options.target}: no connection`, false, cause);
      return;
    }
    const { lockKey, statements } = this.#options;
    let result: BatchResult;
    const hook = this.#options.inTransaction;
    const fenceCheck = batch.some((p) => p.fence !== undefined) ? this.#options.fenceCheck : undefined;
    const inTransaction = hook !== undefined || fenceCheck !== undefined;
    // The fence check locks lease rows, which gives the transaction its id: a fenced batch takes the log
    // lock before it (see persist-statement.ts), the statement then only releases it.
    const lockFirst = fenceCheck !== undefined;
    let only = soleEvent(batch);
    let values: unknown[];
    try {
      // `persist` validated the events, so this cannot fail; if it does anyway, nothing was sent.
      values = batchValues(batch, only, lockKey, !lockFirst);
    } catch (err) {
      this.#releaseAfterBatch();
      rejectAll(batch, (p) => `cannot persist ${describe(p)}: ${reason(err)}; nothing was sent`, false, err);
      return;
    }
    try {
      // With an inline-projection hook the batch runs in an explicit transaction, so the hook's writes
      // commit (or roll back) with it; so does a fenced batch, whose lease rows stay locked until COMMIT.
      // Without either, the batch is one autocommit statement.
      if (lockFirst) await client.query(`${BEGIN}; SELECT pg_advisory_lock(${lockKey})`);
      else if (inTransaction) await client.query(BEGIN);
      if (fenceCheck !== undefined) {
        // Persists whose tenure is over fail alone, with nothing written; the others go on.
        const live = await rejectLostFences(client, fenceCheck, batch);
        if (live !== batch) {
          batch = live;
          if (batch.length === 0) {
            await client.query(`SELECT pg_advisory_unlock(${lockKey}); COMMIT`);
            this.#releaseAfterBatch();
            return;
          }
          only = soleEvent(batch);
          values = batchValues(batch, only, lockKey, false);
        }
      }
      result = await runBatchStatement(client, statements, batch, only, values);
      if (hook !== undefined) await runHook(client, hook, batch, result);
      if (inTransaction) await client.query("COMMIT");
    } catch (caught) {
      const refused = caught instanceof HookRefused;
      const err = refused ? caught.cause : caught;
      const failure = classifyQueryFailure(err);
      if (refused && failure.kind !== "lost") {
        // The hook refused: roll the batch back and write its persists one by one, so only the persist the
        // hook refuses fails.
        await this.#rollBack(client, true);
        this.#releaseAfterBatch();
        if (fallback && batch.length > 1) {
          this.#stats.fallbacks++;
          for (const p of batch) await this.#write([p], false);
        } else {
          for (const p of batch) p.reject(hookError(p, err));
        }
        return;
      }
      if (failure.discardConnection) this.#discardClient(err instanceof Error ? err : new Error(String(err)));
      else {
        await this.#rollBack(client, inTransaction);
        this.#releaseAfterBatch();
      }
      if (rejectUnretriable(batch, failure, err)) return;
      // The server refused the statement: its transaction rolled back, nothing was written.
      if (fallback && batch.length > 1) {
        this.#stats.fallbacks++;
        this.#options.logger.warn("group commit batch failed; retrying its persists one by one", {
          sqlState: failure.sqlState,
          error: reason(err),
          persists: batch.length,
        });
        for (const p of batch) await this.#write([p], false);
        return;
      }
      rejectRefused(batch, failure, err);
      return;
    }
    this.#releaseAfterBatch();
    const types = settleCommitted(batch, result, this.#stats);
    if (types.size > 0) this.#options.onCommitted(types);
  }
}
