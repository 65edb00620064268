import {
  ConfigurationError,
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
  type Logger,
  type NewEvt,
  PersistError,
  type Persisted,
  ReadError,
  type TypedEvtRecord,
  type TypeHead,
  validateTypeAndId,
} from "@eventsourced/core";
import { advisoryLockKey } from "./advisory-lock-key.js";
import { AppendSignal } from "./append-signal.js";
import { connectionTarget } from "./connection-target.js";
import { createPool, type OwnedPool } from "./create-pool.js";
import { PostgresEvtDeletion } from "./delete-evts.js";
import { type EntityIdsOptions, entityIdsStatement, readEntityIds } from "./entity-ids.js";
import { evtsByIdStatement, readEvtsById } from "./evts-by-id.js";
import { evtsByIdsStatement, readEvtsByIds } from "./evts-by-ids.js";
import { evtsByTypeStatement, readEvtsByType } from "./evts-by-type.js";
import { FencedEvtLog } from "./fenced-evt-log.js";
import { type GroupCommitStats, GroupCommitter } from "./group-commit.js";
import { NotificationListener } from "./notification-listener.js";
import { type FenceCheck, fenceCheck, type PersistFence, validateFence } from "./persist-fence.js";
import type { PersistHook } from "./persist-hook.js";
import { persistOneStatement } from "./persist-one-statement.js";
import { persistStatement } from "./persist-statement.js";
import { setupError } from "./pg-errors.js";
import type { PgPoolLike } from "./pg-pool-like.js";
import type { PersistOptions, PostgresEvtLogOptions } from "./postgres-evt-log-options.js";
import { LOG_SCHEMA_VERSION, type LogTables, logTables, setupLogSchema } from "./schema.js";
import { validateNewEvts } from "./validate-new-evts.js";

interface Config {
  readonly tables: LogTables;
  readonly target: string;
  /** Connections the pool can open: `maxConnections`, for a pool passed in as for one the log creates. */
  readonly poolSize: number;
  /** LISTEN for live readers: needs a connection of its own, so only when the pool has at least 3. */
  readonly listen: boolean;
  readonly pageSize: number;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  readonly lastSeqNoSql: string;
  readonly byIdSql: string;
  readonly byIdsSql: string;
  readonly byTypeSql: string;
  readonly headSql: string;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`invalid ${name} ${value}: must be a positive integer`);
  }
  return value;
}

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
  readonly #config: Config;
  readonly #committer: GroupCommitter;
  readonly #appendSignal = new AppendSignal();
  readonly #listener: NotificationListener | undefined;
  readonly #deletion: PostgresEvtDeletion;
  #closed = false;
  readonly #fencing: boolean;
  readonly #closing = new AbortController();

  private constructor(
    pool: PgPoolLike,
    ownedPool: OwnedPool | undefined,
    config: Config,
    notifyChannel: string | undefined,
    maxBatchSize: number,
    inTransaction: PersistHook | undefined,
    fencing: FenceCheck | undefined,
  ) {
    this.#pool = pool;
    this.#ownedPool = ownedPool;
    this.#config = config;
    this.#deletion = new PostgresEvtDeletion(pool, config.tables);
    this.#listener =
      notifyChannel === undefined || !config.listen
        ? undefined
        : new NotificationListener(pool, notifyChannel, this.#appendSignal, config.logger);
    this.#committer = new GroupCommitter({
      pool,
      statements: {
        batch: persistStatement(config.tables),
        batchName: `eventsourced_persist_${advisoryLockKey(`v${LOG_SCHEMA_VERSION}:${config.tables.events}`)}`,
        one: persistOneStatement(config.tables),
        oneName: `eventsourced_persist_one_${advisoryLockKey(`v${LOG_SCHEMA_VERSION}:${config.tables.events}`)}`,
      },
      lockKey: advisoryLockKey(`eventsourced:log:${config.tables.schemaName}.${config.tables.tableName}`),
      notifyChannel,
      maxBatchSize,
      maxBatchEvents: Math.max(10_000, maxBatchSize),
      // With one connection, the committer must hand it back after each batch so readers get a turn.
      holdConnection: config.poolSize > 1,
      target: config.target,
      logger: config.logger,
      onCommitted: (types) => this.#appendSignal.signal(types),
      inTransaction,
      fenceCheck: fencing,
    });
    this.#fencing = fencing !== undefined;
  }

  /**
   * Connects, runs the schema setup (unless `setup: false`) and returns the log. Rejects with
   * `ConnectionError` (naming host, port and database, never the password) when the server cannot be
   * reached or refuses the login, and with `InvalidArgumentError` on a bad schema or table name.
   */
  static async create(options: PostgresEvtLogOptions = {}): Promise<PostgresEvtLog> {
    const logger = options.logger ?? consoleLogger;
    const tables = logTables(options.schema ?? "eventsourced", options.table ?? "events");
    const maxBatchSize = positiveInteger(options.maxBatchSize, 1000, "maxBatchSize");
    const fencing = fenceCheck(options.fencing);
    const pageSize = positiveInteger(options.readPageSize, 1000, "readPageSize");
    const connectionString = options.pool === undefined ? options.connectionString : undefined;
    const target = connectionTarget(connectionString, options.pool !== undefined);
    // A pool passed in without its size is taken to have one connection: assuming more than it has would
    // let the committer hold its only connection while reads wait for one forever.
    const poolSize = positiveInteger(
      options.maxConnections,
      options.pool === undefined ? 10 : 1,
      "maxConnections",
    );
    if (options.pool !== undefined && options.maxConnections === undefined) {
      logger.warn(
        "PostgresEvtLog: a pool was passed without maxConnections; using it as a single connection (no LISTEN, " +
          "the committer releases it after every batch). Pass maxConnections: the pool's max.",
      );
    }
    const ownedPool =
      options.pool === undefined
        ? await createPool({
            connectionString,
            max: poolSize,
            ssl: options.ssl,
            applicationName: "eventsourced",
            onIdleError: (err) => logger.warn("idle PostgreSQL connection failed", { error: err.message }),
          })
        : undefined;
    const pool = options.pool ?? (ownedPool as OwnedPool);
    const notify = options.notify ?? poolSize > 1;
    // The committer holds one connection and LISTEN another; readers need at least one more.
    const listen = notify && poolSize >= 3;
    const config: Config = {
      tables,
      target,
      poolSize,
      listen,
      pageSize,
      pollIntervalMs: positiveInteger(options.pollIntervalMs, listen ? 1000 : 100, "pollIntervalMs"),
      logger,
      lastSeqNoSql: `SELECT last_seq_no FROM ${tables.streams} WHERE type = $1 AND id = $2`,
      byIdSql: evtsByIdStatement(tables),
      byIdsSql: evtsByIdsStatement(tables),
      byTypeSql: evtsByTypeStatement(tables),
      // Backwards on the (type, position) index: one index entry, whatever the table's size.
      headSql: `SELECT position, recorded_at FROM ${tables.events} WHERE type = $1 ORDER BY position DESC LIMIT 1`,
    };
    const notifyChannel = notify
      ? `eventsourced_${advisoryLockKey(`${tables.schemaName}.${tables.tableName}`).replace("-", "m")}`
      : undefined;
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
      pool,
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
      if (fence !== undefined) this.#validateFence(fence);
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
    this.#validateFence(fence);
    return new FencedEvtLog(this, { key: fence.key, owner: fence.owner, epoch: fence.epoch });
  }

  #validateFence(fence: PersistFence): void {
    if (!this.#fencing) {
      throw new ConfigurationError(
        "a fenced persist needs a lease table: create the log with fencing: { leaseTable }",
        "fencing",
        "PostgresEvtLogOptions",
      );
    }
    validateFence(fence);
  }

  async lastSeqNo(type: string, id: string): Promise<number> {
    validateTypeAndId(type, id);
    try {
      const res = await this.#pool.query(this.#config.lastSeqNoSql, [type, id]);
      const row = res.rows[0] as { last_seq_no: string | number } | undefined;
      return row === undefined ? 0 : Number(row.last_seq_no);
    } catch (err) {
      throw new ReadError(
        `cannot read the last seqNo of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
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
  async headOfType(type: string): Promise<TypeHead | undefined> {
    validateTypeAndId(type, "-");
    try {
      const res = await this.#pool.query(this.#config.headSql, [type]);
      const row = res.rows[0] as { position: string | number; recorded_at: Date } | undefined;
      return row === undefined ? undefined : { position: Number(row.position), recordedAt: row.recorded_at };
    } catch (err) {
      throw new ReadError(`cannot read the last event of type ${type}: ${(err as Error).message}`, {
        cause: err,
      });
    }
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
        pageSize: this.#config.pageSize,
        appendSignal: this.#appendSignal,
        listener: this.#listener,
        pollIntervalMs: this.#config.pollIntervalMs,
        closed: this.#closing.signal,
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
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    await this.#committer.close();
    await this.#listener?.close();
    await this.#ownedPool?.end();
  }
}
