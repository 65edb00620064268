import { randomBytes } from "node:crypto";
import {
  consoleLogger,
  type EvtLog,
  type EvtLogBulkReads,
  type EvtLogRetention,
  type EvtRange,
  type EvtRecord,
  type EvtsByIdOptions,
  type EvtsByTypeOptions,
  type EvtsDeleted,
  type IdEvtRecord,
  InvalidArgumentError,
  type NewEvt,
  PersistError,
  type Persisted,
  type TypedEvtRecord,
  type TypeHead,
  validateTypeAndId,
} from "@eventsourced/core";
import { AppendSignal } from "./append-signal.js";
import { boundedPool } from "./bounded-pool.js";
import { CommitNotifier } from "./commit-notifier.js";
import { connectionTarget } from "./connection-target.js";
import { createPool, type OwnedPool } from "./create-pool.js";
import { PostgresEvtDeletion } from "./delete-evts.js";
import { type EntityIdsOptions, entityIdsStatement, readEntityIds } from "./entity-ids.js";
import { readEvtsById } from "./evts-by-id.js";
import { readEvtsByIds } from "./evts-by-ids.js";
import { readEvtsByType } from "./evts-by-type.js";
import { FencedEvtLog } from "./fenced-evt-log.js";
import type { GroupCommitStats, GroupCommitter } from "./group-commit.js";
import { readHeadOfType, readLastSeqNo } from "./head-queries.js";
import { ListenerPresence } from "./listener-presence.js";
import { logCommitter } from "./log-committer.js";
import { type LogConfig, logConfig, notifyChannelOf, poolSizeOf, positiveInteger } from "./log-config.js";
import { NotificationListener } from "./notification-listener.js";
import { fenceLeaseTable, type PersistFence, validateFenceFor } from "./persist-fence.js";
import type { PersistHook } from "./persist-hook.js";
import { setupError } from "./pg-errors.js";
import type { PgPoolLike } from "./pg-pool-like.js";
import type { PersistOptions, PostgresEvtLogOptions } from "./postgres-evt-log-options.js";
import { logTables, setupLogSchema } from "./schema.js";
import { validateNewEvts } from "./validate-new-evts.js";

/**
 * The PostgreSQL {@link EvtLog}: group commit across entities, gap-free (live) reads by type, versioned
 * schema setup. See the package README for the table layout and the design.
 * @example
 * const log = await PostgresEvtLog.create({ connectionString: process.env.DATABASE_URL });
 * const counter = await Entity.spawn("c-1", counterDefinition, { evtLog: log });
 * // ...
 * await log.close();
 */
export class PostgresEvtLog implements EvtLog, EvtLogRetention, EvtLogBulkReads {
  readonly #pool: PgPoolLike;
  readonly #ownedPool: OwnedPool | undefined;
  readonly #config: LogConfig;
  readonly #committer: GroupCommitter;
  readonly #appendSignal = new AppendSignal();
  readonly #listener: NotificationListener | undefined;
  readonly #notifier: CommitNotifier | undefined;
  readonly #deletion: PostgresEvtDeletion;
  #closed = false;
  readonly #fencing: boolean;
  readonly #closing = new AbortController();

  private constructor(
    pool: PgPoolLike,
    ownedPool: OwnedPool | undefined,
    config: LogConfig,
    notifyChannel: string | undefined,
    maxBatchSize: number,
    inTransaction: PersistHook | undefined,
    fencing: string | undefined,
  ) {
    this.#pool = pool;
    this.#ownedPool = ownedPool;
    this.#config = config;
    this.#deletion = new PostgresEvtDeletion(pool, config.tables);
    // Tags this log's notifications, so that its own listener skips them (its readers were woken at commit).
    const senderTag = randomBytes(6).toString("base64url");
    this.#listener =
      notifyChannel === undefined || !config.listen
        ? undefined
        : new NotificationListener(
            pool,
            notifyChannel,
            senderTag,
            this.#appendSignal,
            config.logger,
            config.queryTimeoutMs,
          );
    this.#notifier =
      notifyChannel === undefined
        ? undefined
        : new CommitNotifier(
            pool,
            notifyChannel,
            senderTag,
            config.logger,
            new ListenerPresence(pool, notifyChannel, senderTag, config.logger),
          );
    this.#committer = logCommitter({
      pool,
      config,
      maxBatchSize,
      inTransaction,
      fencing,
      onCommitted: (types) => {
        this.#appendSignal.signal(types);
        this.#notifier?.notify(types);
      },
    });
    this.#fencing = fencing !== undefined;
  }

  /**
   * Connects, runs the schema setup (unless `setup: false`) and returns the log. Rejects with
   * `ConnectionError` (naming host, port and database, never the password) when the server cannot be
   * reached or refuses the login, and with `InvalidArgumentError` on a bad schema or table name.
   */
  static async create(options: PostgresEvtLogOptions = {}): Promise<PostgresEvtLog> {
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError(`PostgresEvtLog options must be an object, got ${String(options)}`);
    }
    const logger = options.logger ?? consoleLogger;
    const tables = logTables(options.schema ?? "eventsourced", options.table ?? "events");
    const maxBatchSize = positiveInteger(options.maxBatchSize, 1000, "maxBatchSize");
    const fencing = fenceLeaseTable(options.fencing);
    const pageSize = positiveInteger(options.readPageSize, 1000, "readPageSize");
    const connectionString = options.pool === undefined ? options.connectionString : undefined;
    const target = connectionTarget(connectionString, options.pool !== undefined);
    const poolSize = poolSizeOf(options, logger);
    const ownedPool =
      options.pool === undefined
        ? await createPool({
            connectionString,
            max: poolSize,
            ssl: options.ssl,
            applicationName: "eventsourced",
            serverKeepalive: options.serverKeepalive ?? true,
            onIdleError: (err) => logger.warn("idle PostgreSQL connection failed", { error: err.message }),
          })
        : undefined;
    const pool = options.pool ?? (ownedPool as OwnedPool);
    const notify = options.notify ?? poolSize > 1;
    // The committer holds one connection and LISTEN another; readers need at least one more.
    const listen = notify && poolSize >= 3;
    const config = logConfig({
      tables,
      target,
      poolSize,
      listen,
      pageSize,
      pollIntervalMs: options.pollIntervalMs,
      closeTimeoutMs: options.closeTimeoutMs,
      queryTimeoutMs: options.queryTimeoutMs,
      logger,
    });
    const notifyChannel = notify ? notifyChannelOf(tables) : undefined;
    try {
      if (options.setup ?? true) {
        await setupLogSchema(pool, tables, logger);
      } else {
        await pool.query("SELECT 1");
      }
    } catch (err) {
      await ownedPool?.end().catch(() => {});
      throw setupError(err, target, `set up the event log tables ${tables.events}`);
    }
    return new PostgresEvtLog(
      // Every statement of the running log is bounded (ADR 0140); the setup above is not.
      boundedPool(pool, config.queryTimeoutMs),
      ownedPool,
      config,
      notifyChannel,
      maxBatchSize,
      options.inTransaction,
      fencing,
    );
  }

  /** Group-commit counters: batches, persists, events, conflicts, fallbacks, reconnects. */
  get stats(): GroupCommitStats {
    return this.#committer.stats;
  }

  /** True when the log was created with `fencing`, so `fenced` works (a cluster then fences by default). */
  get strictFencing(): boolean {
    return this.#fencing;
  }

  /** The quoted, schema-qualified name of the events table (for operators and tests). */
  get eventsTable(): string {
    return this.#config.tables.events;
  }

  /**
   * See {@link EvtLog.persist}. With `options.fence` (strict fencing, needs `fencing` in the options), the
   * persist commits only while that lease tenure is live and rejects with `OwnershipLostError`, writing
   * nothing, once it is not; the other persists of its batch are not affected.
   */
  persist(
    type: string,
    id: string,
    expectedLastSeqNo: number,
    evts: readonly NewEvt[],
    options?: PersistOptions,
  ): Promise<Persisted> {
    const fence = options?.fence;
    try {
      validateTypeAndId(type, id);
      if (fence !== undefined) validateFenceFor(this.#fencing, fence);
      if (!Number.isSafeInteger(expectedLastSeqNo) || expectedLastSeqNo < 0) {
        throw new InvalidArgumentError(`invalid expected last seqNo ${expectedLastSeqNo}: an integer >= 0`);
      }
      validateNewEvts(evts);
      if (this.#closed)
        throw new PersistError("cannot persist: the event log is closed; nothing was sent", false);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Persisted>((resolve, reject) => {
      this.#committer.enqueue({ type, id, expected: expectedLastSeqNo, evts, fence, resolve, reject });
    });
  }

  /**
   * This log seen through one lease tenure (strict fencing, L2): every persist of the returned log carries
   * `fence`, so it commits only while the tenure is live and otherwise rejects with `OwnershipLostError`,
   * writing nothing. Reads go to this log unchanged. Needs `fencing` in the options (else
   * `ConfigurationError`); `InvalidArgumentError` for a malformed fence.
   * @example
   * const log = await PostgresEvtLog.create({ connectionString, fencing: { leaseTable: leaseStore.table } });
   * const shardLog = log.fenced({ key: lease.key, owner: lease.owner, epoch: lease.epoch });
   */
  fenced(fence: PersistFence): FencedEvtLog {
    validateFenceFor(this.#fencing, fence);
    return new FencedEvtLog(this, { key: fence.key, owner: fence.owner, epoch: fence.epoch });
  }

  lastSeqNo(type: string, id: string): Promise<number> {
    return readLastSeqNo(this.#pool, this.#config.lastSeqNoSql, type, id);
  }

  /** See {@link EvtLog.evtsById}: invalid arguments are refused when iteration starts, before any query. */
  evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    return readEvtsById(this.#pool, this.#config.byIdSql, this.#config.pageSize, type, id, options);
  }

  /**
   * Many entities' events, up to ten read pages' worth of events per query, a few queries at a time (see
   * {@link EvtLogBulkReads.evtsByIds}): what `Entity.spawnMany` recovers from.
   */
  evtsByIds(
    type: string,
    ranges: readonly EvtRange[],
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): AsyncIterable<IdEvtRecord> {
    return readEvtsByIds(
      this.#pool,
      this.#config.byIdsSql,
      this.#config.pageSize * 10,
      // Pages read concurrently: the pool's connections less the committer's and the listener's.
      Math.max(1, Math.min(3, this.#config.poolSize - 2)),
      type,
      ranges,
      options.signal,
    );
  }

  /** The position and time of the type's last event (see {@link EvtLog.headOfType}). */
  headOfType(type: string): Promise<TypeHead | undefined> {
    return readHeadOfType(this.#pool, this.#config.headSql, type);
  }

  /**
   * Ids of the entities of `type` that have (or had: a deleted entity is still listed) events, in ascending
   * order of the database's text collation, a page at a time: pass the last id of a page as `after`. For
   * operators (the `eventsourced entities list` command); one index range scan.
   */
  entityIds(type: string, options: EntityIdsOptions = {}): Promise<string[]> {
    return readEntityIds(this.#pool, entityIdsStatement(this.#config.tables.streams), type, options);
  }

  /** See {@link EvtLog.evtsByType}: invalid arguments are refused when iteration starts, before any query. */
  evtsByType(type: string, options: EvtsByTypeOptions = {}): AsyncIterable<TypedEvtRecord> {
    return readEvtsByType(
      {
        pool: this.#pool,
        statement: this.#config.byTypeSql,
        aheadStatement: this.#config.byTypeAheadSql,
        pageSize: this.#config.pageSize,
        appendSignal: this.#appendSignal,
        listener: this.#listener,
        pollIntervalMs: this.#config.pollIntervalMs,
        closed: this.#closing.signal,
        logger: this.#config.logger,
      },
      type,
      options,
    );
  }

  /**
   * Deletes the entity's events up to `toSeqNo` in one statement; the head (last seqNo) survives. See
   * {@link EvtLogRetention.deleteEvts} and `delete-evts.ts`.
   */
  deleteEvts(type: string, id: string, toSeqNo: number): Promise<EvtsDeleted> {
    return this.#deletion.deleteEvts(type, id, toSeqNo);
  }

  /** The head's `deleted_to`; see {@link EvtLogRetention.deletedTo}. */
  deletedTo(type: string, id: string): Promise<number> {
    return this.#deletion.deletedTo(type, id);
  }

  /** Deletes the remaining events and the head; see {@link EvtLogRetention.resetEntity}. */
  resetEntity(type: string, id: string, expectedLastSeqNo: number): Promise<void> {
    return this.#deletion.resetEntity(type, id, expectedLastSeqNo);
  }

  /**
   * Waits for queued persists to settle, ends live by-type readers (after the page they are reading), stops
   * listening and, if the log created its pool, ends it. A pool passed in by the caller is left open.
   *
   * A server that does not answer (a network partition) is waited for `closeTimeoutMs` (default 5 s), not
   * until TCP gives up: then persists not yet sent fail with `PersistError` (nothing was sent), the
   * connections of batches in flight are cut and their persists fail with `PersistError` with
   * `outcomeUnknown`, and, on a pool the log created, every connection and connection attempt is cut too.
   * On a pool passed in, whose connection attempts the log cannot cut, a persist still waiting for a
   * connection then fails (nothing was sent), and a notification or the LISTEN set-up still waiting for one
   * is not waited for (it goes out or fails in the pool's time).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    let gaveUp!: () => void;
    const givenUp = new Promise<void>((resolve) => {
      gaveUp = resolve;
    });
    const giveUp = setTimeout(() => {
      // A pool the log created has its connection attempts cut below (their persists fail with that cause);
      // on a pool passed in, the committer stops waiting for one.
      this.#committer.abort({ stopWaitingForConnections: this.#ownedPool === undefined });
      this.#ownedPool?.destroyConnections();
      gaveUp();
    }, this.#config.closeTimeoutMs);
    try {
      await this.#committer.close();
      // A notification (best effort) or the LISTEN set-up may wait for a connection of a pool passed in,
      // which the log cannot cut: not waited for past the bound (it goes out, or fails, in the pool's time).
      await Promise.race([this.#notifier?.close(), givenUp]);
      await Promise.race([this.#listener?.close(), givenUp]);
      await this.#ownedPool?.end();
    } finally {
      clearTimeout(giveUp);
    }
  }
}
