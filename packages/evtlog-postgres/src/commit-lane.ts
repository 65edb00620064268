import { batchShape, batchValues } from "./batch-assembly.js";
import {
  type MutableGroupCommitStats,
  rejectAll,
  rejectRefused,
  rejectUnretriable,
  settleCommitted,
} from "./batch-outcome.js";
import { checkOut } from "./check-out.js";
import type { GroupCommitterOptions } from "./group-commit.js";
import { describe, type PendingPersist, reason } from "./pending-persist.js";
import { HookRefused, hookError, runHook } from "./persist-hook.js";
import { classifyQueryFailure, connectionError, isConnectFailure } from "./pg-errors.js";
import type { PgClientLike } from "./pg-pool-like.js";
import { type BatchResult, runBatchStatement } from "./run-batch-statement.js";

/**
 * Starts a batch's explicit transaction (inline-projection hook). A batch's transaction is never idle for
 * long unless its process stopped (SIGSTOP, a frozen VM): the server then ends the session after 10 s, so
 * the transaction does not hold back by-type readers server-wide (ADR 0108) or a lease takeover waiting for
 * its fence check's row locks (ADR 0086) indefinitely. Its persists fail with an unknown outcome.
 */
const BEGIN = "BEGIN; SET LOCAL idle_in_transaction_session_timeout = 10000";

/**
 * One of a committer's connections and the writing of one batch at a time on it: the statement (in an
 * explicit transaction with a hook), the settling of each persist, the clean-up after a failure
 * and the one-by-one retry of a refused batch. The committer decides which batch goes on which lane.
 */
export class CommitLane {
  readonly #options: GroupCommitterOptions;
  readonly #stats: MutableGroupCommitStats;
  #client: PgClientLike | undefined;
  /** Set by {@link abort}: nothing more is sent on this lane. */
  #aborted = false;
  /** While the lane waits for the pool to hand over a connection: stops that wait. */
  #stopWaiting: (() => void) | undefined;
  #onClientError = (err: Error) => {
    // An idle held connection died (e.g. terminated backend). Drop it; the next batch reconnects.
    this.#options.logger.warn("event log committer connection lost while idle", { error: err.message });
    this.#discardClient(err);
  };

  constructor(options: GroupCommitterOptions, stats: MutableGroupCommitStats) {
    this.#options = options;
    this.#stats = stats;
  }

  /** Releases the lane's connection (call when no batch is being written). */
  release(): void {
    if (this.#client !== undefined) {
      this.#client.removeListener("error", this.#onClientError);
      this.#client.release();
      this.#client = undefined;
    }
  }

  /**
   * Gives up on the batch in flight (the log's `close()` waited long enough): the connection is released
   * with an error, which makes `pg.Pool` destroy it, so a statement still waiting for the server fails as
   * on a lost connection (its persists with an unknown outcome). Batches after this one send nothing.
   * With `stopWaitingForConnection` (a pool passed in, whose connection attempts the log cannot cut), a
   * batch still waiting for a connection stops waiting and fails: nothing was sent.
   */
  abort(stopWaitingForConnection = false): void {
    this.#aborted = true;
    if (stopWaitingForConnection) this.#stopWaiting?.();
    const client = this.#client;
    if (client === undefined) return;
    this.#client = undefined;
    client.removeListener("error", this.#onClientError);
    client.on("error", () => {});
    client.release(new Error("the event log closed while a batch statement was in flight"));
  }

  async #acquire(): Promise<PgClientLike> {
    if (this.#client !== undefined) return this.#client;
    // Listening from the hand-over on: a connection dying right then must not crash the process.
    const handedOver = checkOut(this.#options.pool, this.#onClientError);
    const client = await new Promise<PgClientLike>((resolve, reject) => {
      let abandoned = false;
      handedOver.then(
        (handed) => {
          if (!abandoned) return resolve(handed);
          // Handed over after abort() stopped the wait: back to the pool, unused.
          handed.removeListener("error", this.#onClientError);
          handed.release();
        },
        (err: unknown) => {
          if (!abandoned) reject(err);
        },
      );
      this.#stopWaiting = () => {
        abandoned = true;
        reject(new LogClosedBeforeSending());
      };
    }).finally(() => {
      this.#stopWaiting = undefined;
    });
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
   * it, end on the server. Returns whether the connection was still up (the clean-up succeeded).
   */
  async #rollBack(client: PgClientLike, inTransaction: boolean): Promise<boolean> {
    try {
      await client.query({
        text: `${inTransaction ? "ROLLBACK; " : ""}SELECT pg_advisory_unlock_all()`,
        values: [],
        query_timeout: this.#options.queryTimeoutMs,
      });
      return true;
    } catch (err) {
      if (this.#client === client) this.#discardClient(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  /**
   * Writes `batch` and settles each persist. When the statement fails on something other than a lost
   * connection, nothing was written (one statement, one transaction), so with `fallback` each persist is
   * retried alone: an unexpected failure caused by one persist then fails that persist only.
   */
  async write(batch: PendingPersist[], fallback: boolean): Promise<void> {
    let client: PgClientLike;
    try {
      if (this.#aborted) throw new LogClosedBeforeSending();
      client = await this.#acquire();
      if (this.#aborted) {
        this.abort();
        throw new LogClosedBeforeSending();
      }
    } catch (err) {
      if (err instanceof LogClosedBeforeSending) {
        rejectAll(batch, (p) => `cannot persist ${describe(p)}: ${err.message}`, false, undefined);
        return;
      }
      const cause = isConnectFailure(err) ? connectionError(err, this.#options.target) : err;
      rejectAll(batch, () => `cannot persist to ${this.#options.target}: no connection`, false, cause);
      return;
    }
    const { lockKey, statements } = this.#options;
    let result: BatchResult;
    const hook = this.#options.inTransaction;
    const inTransaction = hook !== undefined;
    const shape = batchShape(batch);
    let values: unknown[];
    try {
      // `persist` validated the events, so this cannot fail; if it does anyway, nothing was sent.
      values = batchValues(batch, shape, lockKey);
    } catch (err) {
      this.#releaseAfterBatch();
      rejectAll(batch, (p) => `cannot persist ${describe(p)}: ${reason(err)}; nothing was sent`, false, err);
      return;
    }
    try {
      // With an inline-projection hook the batch runs in an explicit transaction, so the hook's writes
      // commit (or roll back) with it. Without one, the batch is one autocommit statement, a fenced one
      // included: its fence check is part of the statement, and the lease rows it locks stay locked until
      // the statement's commit (ADR 0132).
      // Each statement is bounded (`queryTimeoutMs`, ADR 0140): behind a network partition it fails as
      // `timedOut` (outcome unknown) and the connection, with any session lock it holds, is destroyed.
      const query_timeout = this.#options.queryTimeoutMs;
      if (inTransaction) await client.query({ text: BEGIN, values: [], query_timeout });
      result = await runBatchStatement(client, statements, batch, shape, values, query_timeout);
      if (hook !== undefined) await runHook(client, hook, batch, result);
      if (inTransaction) await client.query({ text: "COMMIT", values: [], query_timeout });
    } catch (caught) {
      const refused = caught instanceof HookRefused;
      const err = refused ? caught.cause : caught;
      const failure = classifyQueryFailure(err);
      if (refused && failure.kind !== "lost") {
        // The hook failed without a lost connection's error, but a hook may wrap or replace the driver's
        // error: when the roll-back fails too, the connection died under the hook, and the persists fail as
        // on any lost connection (outcome unknown), not as refused by the hook.
        if (!(await this.#rollBack(client, true))) {
          rejectAll(
            batch,
            (p) =>
              `the connection was lost while persisting ${describe(p)} (its in-transaction hook failed: ${reason(err)}); the write may or may not have committed`,
            true,
            err,
          );
          return;
        }
        // The hook refused: the batch is rolled back; write its persists one by one, so only the persist the
        // hook refuses fails.
        this.#releaseAfterBatch();
        if (fallback && batch.length > 1) {
          this.#stats.fallbacks++;
          for (const p of batch) await this.write([p], false);
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
        for (const p of batch) await this.write([p], false);
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

/** A batch that the log's `close()` gave up on before it went out. */
class LogClosedBeforeSending extends Error {
  constructor() {
    super("the event log closed before the write was sent; nothing was sent");
  }
}
