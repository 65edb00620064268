import type { ConnectionOptions } from "node:tls";
import {
  InvalidArgumentError,
  PersistError,
  ReadError,
  type Snapshot,
  type SnapshotStore,
  validateSnapshot,
  validateTypeAndId,
} from "@eventsourced/core";
import type { PgQueryPoolLike } from "@eventsourced/evtlog-postgres";
import {
  classifyQueryFailure,
  connectionTarget,
  createPool,
  type OwnedPool,
  setupError,
} from "@eventsourced/evtlog-postgres/internal";
import { type SnapshotTables, setupSnapshotSchema, snapshotTables } from "./snapshot-schema.js";

/** Options of {@link PostgresSnapshotStore.create}. */
export interface PostgresSnapshotStoreOptions {
  /** The store creates (and on `close` ends) its own `pg.Pool` from it; ignored when `pool` is given. */
  readonly connectionString?: string | undefined;
  /**
   * An existing `pg`-compatible pool, never ended by the store. On the embedded PGlite server, pass the
   * single-connection pool you share with the event log.
   */
  readonly pool?: PgQueryPoolLike | undefined;
  /** Default `"eventsourced"`. */
  readonly schema?: string | undefined;
  /** Default `"snapshots"`. */
  readonly table?: string | undefined;
  /** Size of the pool created from `connectionString`. Default 4. */
  readonly maxConnections?: number | undefined;
  /** TLS, passed to `pg` as its `ssl` option. */
  readonly ssl?: boolean | ConnectionOptions | undefined;
  /**
   * Each new connection of the pool the store creates sets server-side TCP keepalive, `tcp_user_timeout` and
   * `client_connection_check_interval`, so the server ends a gone client's session in about 30 s (as
   * `PostgresEvtLog`'s option of the same name, ADR 0145). Default true; off for a pooler that rejects
   * `SET`. Not applied to a pool passed in.
   */
  readonly serverKeepalive?: boolean | undefined;
  /** Run the versioned schema setup on create. Default true. */
  readonly setup?: boolean | undefined;
  /**
   * Snapshots kept per entity (the newest ones); each save deletes older ones. Default 1. Retention with
   * `keepSnapshots: K` needs at least K.
   */
  readonly history?: number | undefined;
}

/** A row as the load statements return it. */
interface SnapshotRow {
  readonly seq_no: string | number;
  readonly version: string | null;
  readonly bytes: Uint8Array;
}

/**
 * Snapshots in a PostgreSQL table keyed by `(type, id, seq_no)`, with the version each was written under.
 * A save is one statement that inserts the snapshot unless one with the same or a higher seqNo is stored,
 * and deletes the entity's snapshots beyond the newest `history`; racing saves may leave one extra row
 * until the next save, but `load` always returns the highest seqNo and `loadAll` at most `history`.
 * @example
 * const snapshots = await PostgresSnapshotStore.create({ connectionString: process.env.DATABASE_URL });
 * await Entity.spawn(id, counter, { evtLog, snapshotStore: snapshots, snapshotAfter: 100 });
 */
export class PostgresSnapshotStore implements SnapshotStore {
  /** Snapshots kept per entity. */
  readonly history: number;
  readonly #pool: PgQueryPoolLike;
  readonly #ownedPool: OwnedPool | undefined;
  readonly #saveSql: string;
  readonly #loadSql: string;
  readonly #loadAllSql: string;
  readonly #deleteAllSql: string;

  private constructor(
    pool: PgQueryPoolLike,
    ownedPool: OwnedPool | undefined,
    tables: SnapshotTables,
    history: number,
  ) {
    this.#pool = pool;
    this.#ownedPool = ownedPool;
    this.history = history;
    const t = tables.snapshots;
    // `kept` sees the rows from before the statement plus the one it inserts (a data-modifying CTE's rows
    // are not visible to the rest of the statement otherwise).
    this.#saveSql = `WITH ins AS (
  INSERT INTO ${t} (type, id, seq_no, version, bytes)
  SELECT $1, $2, $3, $4, $5
  WHERE NOT EXISTS (SELECT FROM ${t} WHERE type = $1 AND id = $2 AND seq_no >= $3)
  ON CONFLICT (type, id, seq_no) DO NOTHING
  RETURNING seq_no
),
kept AS (
  SELECT seq_no FROM (SELECT seq_no FROM ${t} WHERE type = $1 AND id = $2 UNION ALL SELECT seq_no FROM ins) AS all_kept
  ORDER BY seq_no DESC LIMIT $6
)
DELETE FROM ${t} WHERE type = $1 AND id = $2 AND EXISTS (SELECT FROM ins)
  AND seq_no < (SELECT min(seq_no) FROM kept)`;
    this.#loadSql = `SELECT seq_no, version, bytes FROM ${t} WHERE type = $1 AND id = $2 ORDER BY seq_no DESC LIMIT 1`;
    this.#loadAllSql = `SELECT seq_no, version, bytes FROM ${t} WHERE type = $1 AND id = $2 ORDER BY seq_no DESC LIMIT $3`;
    this.#deleteAllSql = `DELETE FROM ${t} WHERE type = $1 AND id = $2`;
  }

  /**
   * Connects, runs the schema setup (unless `setup: false`) and returns the store. Rejects with
   * `ConnectionError` naming host, port and database (never the password) when the server is unreachable,
   * and with `InvalidArgumentError` on a bad schema or table name or pool size.
   */
  static async create(options: PostgresSnapshotStoreOptions = {}): Promise<PostgresSnapshotStore> {
    const tables = snapshotTables(options.schema ?? "eventsourced", options.table ?? "snapshots");
    const max = options.maxConnections ?? 4;
    if (!Number.isInteger(max) || max < 1) {
      throw new InvalidArgumentError(`invalid maxConnections ${max}: must be a positive integer`);
    }
    const history = options.history ?? 1;
    if (!Number.isSafeInteger(history) || history < 1) {
      throw new InvalidArgumentError(`invalid history ${history}: must be a positive integer`);
    }
    const connectionString = options.pool === undefined ? options.connectionString : undefined;
    const target = connectionTarget(connectionString, options.pool !== undefined);
    const ownedPool =
      options.pool === undefined
        ? await createPool({
            connectionString,
            max,
            ssl: options.ssl,
            serverKeepalive: options.serverKeepalive ?? true,
            applicationName: "eventsourced-snapshots",
            // A failed save or load reports its own error; an idle connection's failure needs no more.
            onIdleError: () => {},
          })
        : undefined;
    const pool = options.pool ?? (ownedPool as OwnedPool);
    try {
      if (options.setup ?? true) await setupSnapshotSchema(pool, tables);
      else await pool.query("SELECT 1");
    } catch (err) {
      await ownedPool?.end().catch(() => {});
      throw setupError(err, target, `set up the snapshot table ${tables.snapshots}`);
    }
    return new PostgresSnapshotStore(pool, ownedPool, tables, history);
  }

  /**
   * Saves the snapshot (and its version) unless one with the same or a higher seqNo is stored, and drops
   * the entity's snapshots beyond the newest `history`. Rejects with `InvalidArgumentError` (nothing sent) on
   * an invalid type, id or seqNo or bytes that are not a `Uint8Array`, and with `PersistError` when the
   * statement fails (`outcomeUnknown` when the connection broke after it was sent).
   */
  async save(type: string, id: string, snapshot: Snapshot): Promise<void> {
    validateTypeAndId(type, id);
    validateSnapshot(snapshot);
    const { bytes } = snapshot;
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      await this.#pool.query(this.#saveSql, [
        type,
        id,
        snapshot.seqNo,
        snapshot.version ?? null,
        buffer,
        this.history,
      ]);
    } catch (err) {
      throw new PersistError(
        `cannot save the snapshot of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        classifyQueryFailure(err).outcomeUnknown,
        { cause: err },
      );
    }
  }

  /**
   * The stored snapshot with the highest seqNo; `InvalidArgumentError` on an invalid type or id,
   * `ReadError` when the query fails.
   */
  async load(type: string, id: string): Promise<Snapshot | undefined> {
    validateTypeAndId(type, id);
    const rows = await this.#read(this.#loadSql, [type, id], type, id);
    return rows[0] === undefined ? undefined : toSnapshot(rows[0]);
  }

  /** The kept snapshots (at most `history`), newest first. */
  async loadAll(type: string, id: string): Promise<readonly Snapshot[]> {
    validateTypeAndId(type, id);
    return (await this.#read(this.#loadAllSql, [type, id, this.history], type, id)).map(toSnapshot);
  }

  /** Deletes every snapshot of the entity (`PersistError` when the statement fails). */
  async deleteAll(type: string, id: string): Promise<void> {
    validateTypeAndId(type, id);
    try {
      await this.#pool.query(this.#deleteAllSql, [type, id]);
    } catch (err) {
      throw new PersistError(
        `cannot delete the snapshots of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        classifyQueryFailure(err).outcomeUnknown,
        { cause: err },
      );
    }
  }

  async #read(sql: string, params: unknown[], type: string, id: string): Promise<SnapshotRow[]> {
    try {
      return (await this.#pool.query(sql, params)).rows as SnapshotRow[];
    } catch (err) {
      throw new ReadError(
        `cannot load the snapshot of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** Ends the pool if the store created it; a pool passed in is left open. */
  async close(): Promise<void> {
    await this.#ownedPool?.end();
  }
}

function toSnapshot(row: SnapshotRow): Snapshot {
  const snapshot = { seqNo: Number(row.seq_no), bytes: row.bytes };
  return row.version === null ? snapshot : { ...snapshot, version: row.version };
}
