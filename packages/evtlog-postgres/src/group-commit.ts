import {
  isEventSourcedError,
  type Logger,
  type NewEvt,
  PersistError,
  type Persisted,
  SeqNoConflictError,
} from "@eventsourced/core";
import { checkFences, type FenceCheck, ownershipLost, type PersistFence } from "./persist-fence.js";
import { persistOneParams } from "./persist-one-statement.js";
import { persistParams } from "./persist-statement.js";
import { classifyQueryFailure, connectionError, isConnectFailure } from "./pg-errors.js";
import type { PgClientLike, PgPoolLike } from "./pg-pool-like.js";

/** One persist waiting for its batch. */
export interface PendingPersist {
  readonly type: string;
  readonly id: string;
  readonly expected: number;
  readonly evts: readonly NewEvt[];
  /** Strict fencing: written only under this live lease tenure (see `persist-fence.ts`). */
  readonly fence?: PersistFence | undefined;
  resolve(persisted: Persisted): void;
  reject(err: Error): void;
}

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
  /** The SQL this committer runs, and the names under which it prepares them (unique per table). */
  readonly statements: {
    readonly batch: string;
    readonly batchName: string;
    readonly one: string;
    readonly oneName: string;
  };
  readonly lockKey: string;
  readonly notifyChannel: string | undefined;
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

/** A persist written by a batch whose transaction has not committed yet. */
export interface WrittenPersist {
  readonly type: string;
  readonly id: string;
  /** The entity's last seqNo before the persist: its events have seqNos `expected + 1 ..`. */
  readonly expected: number;
  readonly evts: readonly NewEvt[];
  /** Position of the persist's last event (its events have consecutive positions). */
  readonly lastPosition: number;
}

/**
 * Called with the persists a batch wrote, on the batch's connection inside its transaction, before it commits
 * (PostgresEvtLogOptions.inTransaction). If it throws, nothing of the batch is committed and each of its
 * persists is written again in a transaction of its own (with the hook): only the persist whose hook call
 * throws fails, with the hook's error when it is an eventsourced error, else a `PersistError`.
 */
export type PersistHook = (client: PgClientLike, persists: readonly WrittenPersist[]) => Promise<void>;

/** The hook refused a batch: nothing was committed. */
class HookRefused {
  constructor(readonly cause: unknown) {}
}

/**
 * Batches up to this many persists use a named prepared statement: parsed once per connection and, after
 * PostgreSQL's five trial executions, run on a generic plan without planning (planning this statement costs
 * about as much as executing it for a few dozen persists; measured 1.0 vs 1.4-2.0 ms per 32-persist batch).
 * Larger batches go unnamed so they are planned with their real sizes: a generic plan assumes short arrays
 * and may pick nested loops, quadratic in the batch size, which is harmless up to this bound only.
 */
const PREPARED_MAX_BATCH = 128;

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
  #stats = { batches: 0, persists: 0, events: 0, conflicts: 0, fallbacks: 0, reconnects: 0, maxBatch: 0 };

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
    const { maxBatchSize, maxBatchEvents } = this.#options;
    const batch: PendingPersist[] = [];
    const rest: PendingPersist[] = [];
    const entities = new Set<string>();
    let events = 0;
    for (const persist of this.#queue) {
      const key = `${persist.type}\u0000${persist.id}`;
      const fits =
        batch.length < maxBatchSize &&
        (batch.length === 0 || events + persist.evts.length <= maxBatchEvents) &&
        !entities.has(key);
      if (fits) {
        batch.push(persist);
        entities.add(key);
        events += persist.evts.length;
      } else {
        rest.push(persist);
      }
    }
    this.#queue = rest;
    return batch;
  }

  async #acquire(): Promise<PgClientLike> {
    if (this.#client !== undefined) return this.#client;
    const client = await this.#options.pool.connect();
    client.on("error", this.#onClientError);
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
    const { lockKey, notifyChannel, statements } = this.#options;
    let only = batch.length === 1 && batch[0]!.evts.length === 1 ? batch[0]! : undefined;
    let values: unknown[];
    try {
      // `persist` validated the events, so this cannot fail; if it does anyway, nothing was sent.
      values =
        only !== undefined
          ? persistOneParams(only, lockKey, notifyChannel)
          : persistParams(batch, lockKey, notifyChannel);
    } catch (err) {
      this.#releaseAfterBatch();
      rejectAll(batch, (p) => `cannot persist ${describe(p)}: ${reason(err)}; nothing was sent`, false, err);
      return;
    }
    let result: { won: number[]; positions: (string | number)[] };
    const hook = this.#options.inTransaction;
    const fenceCheck = batch.some((p) => p.fence !== undefined) ? this.#options.fenceCheck : undefined;
    const inTransaction = hook !== undefined || fenceCheck !== undefined;
    try {
      // With an inline-projection hook the batch runs in an explicit transaction, so the hook's writes
      // commit (or roll back) with it; so does a fenced batch, whose lease rows stay locked until COMMIT.
      // Without either, the batch is one autocommit statement.
      if (inTransaction) await client.query("BEGIN");
      if (fenceCheck !== undefined) {
        // Persists whose tenure is over fail alone, with nothing written; the others go on.
        const { live, lost } = await checkFences(client, fenceCheck, batch);
        if (lost.length > 0) {
          for (const p of lost) p.reject(ownershipLost(p as PendingPersist & { fence: PersistFence }));
          batch = live;
          if (batch.length === 0) {
            await client.query("COMMIT");
            this.#releaseAfterBatch();
            return;
          }
          only = batch.length === 1 && batch[0]!.evts.length === 1 ? batch[0]! : undefined;
          values =
            only !== undefined
              ? persistOneParams(only, lockKey, notifyChannel)
              : persistParams(batch, lockKey, notifyChannel);
        }
      }
      if (only !== undefined) {
        const res = await client.query({ name: statements.oneName, text: statements.one, values });
        const position = (res.rows[0] as { position: string | number | null }).position;
        result = position === null ? { won: [], positions: [] } : { won: [0], positions: [position] };
      } else {
        const res =
          batch.length <= PREPARED_MAX_BATCH
            ? await client.query({ name: statements.batchName, text: statements.batch, values })
            : await client.query(statements.batch, values);
        result = res.rows[0] as { won: number[]; positions: (string | number)[] };
      }
      if (hook !== undefined) await runHook(client, hook, batch, result);
      if (inTransaction) await client.query("COMMIT");
    } catch (caught) {
      const refused = caught instanceof HookRefused;
      const err = refused ? caught.cause : caught;
      const failure = classifyQueryFailure(err);
      if (refused && failure.kind !== "lost") {
        // The hook refused: roll the batch back and write its persists one by one, so only the persist the
        // hook refuses fails.
        await client.query("ROLLBACK").catch(() => {});
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
        // A statement failing inside the explicit transaction aborted it.
        if (inTransaction) await client.query("ROLLBACK").catch(() => {});
        this.#releaseAfterBatch();
      }
      if (failure.outcomeUnknown) {
        // The statement may have reached the server and committed: never acknowledged, never retried here.
        const why =
          failure.kind === "lost" ? "the connection was lost" : `the client failed (${reason(err)})`;
        rejectAll(
          batch,
          (p) => `${why} while persisting ${describe(p)}; the write may or may not have committed`,
          true,
          err,
        );
        return;
      }
      if (failure.kind === "notSent") {
        rejectAll(
          batch,
          (p) => `cannot persist ${describe(p)}: ${reason(err)}; nothing was sent`,
          false,
          err,
        );
        return;
      }
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
      for (const p of batch) {
        p.reject(
          failure.sqlState === "23505"
            ? new SeqNoConflictError(p.type, p.id, p.expected, { cause: err })
            : new PersistError(`cannot persist ${describe(p)}: ${reason(err)}`, false, { cause: err }),
        );
      }
      return;
    }
    this.#releaseAfterBatch();
    this.#stats.batches++;
    this.#stats.maxBatch = Math.max(this.#stats.maxBatch, batch.length);
    const won = new Map<number, number>();
    for (let i = 0; i < result.won.length; i++) won.set(result.won[i]!, Number(result.positions[i]));
    const types = new Set<string>();
    batch.forEach((p, index) => {
      const position = won.get(index);
      if (position !== undefined) {
        this.#stats.persists++;
        this.#stats.events += p.evts.length;
        types.add(p.type);
        p.resolve({ seqNo: p.expected + p.evts.length, position });
      } else {
        this.#stats.conflicts++;
        p.reject(new SeqNoConflictError(p.type, p.id, p.expected));
      }
    });
    if (types.size > 0) this.#options.onCommitted(types);
  }
}

function rejectAll(
  batch: readonly PendingPersist[],
  message: (p: PendingPersist) => string,
  outcomeUnknown: boolean,
  cause: unknown,
): void {
  for (const p of batch) p.reject(new PersistError(message(p), outcomeUnknown, { cause }));
}

function describe(p: PendingPersist): string {
  return `${p.type}/${JSON.stringify(p.id)}`;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Calls the hook with the batch's winners; its failure comes back as `HookRefused`. */
async function runHook(
  client: PgClientLike,
  hook: PersistHook,
  batch: readonly PendingPersist[],
  result: { won: number[]; positions: (string | number)[] },
): Promise<void> {
  const written = result.won.map((index, i) => {
    const p = batch[index]!;
    return {
      type: p.type,
      id: p.id,
      expected: p.expected,
      evts: p.evts,
      lastPosition: Number(result.positions[i]),
    };
  });
  if (written.length === 0) return;
  try {
    await hook(client, written);
  } catch (err) {
    throw new HookRefused(err);
  }
}

/** What a persist refused by the hook rejects with: its typed error as is, anything else as a known failure. */
function hookError(p: PendingPersist, err: unknown): Error {
  if (isEventSourcedError(err)) return err;
  return new PersistError(
    `cannot persist ${describe(p)}: the in-transaction hook refused it; nothing was written`,
    false,
    { cause: err },
  );
}
