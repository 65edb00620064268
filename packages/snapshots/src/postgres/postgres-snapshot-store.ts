import type { ConnectionOptions } from "node:tls";
import {
  InvalidArgumentError,
  PersistError,
  ReadError,
  type Snapshot,
  type SnapshotStore,
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
  /** Run the versioned schema setup on create. Default true. */
  readonly setup?: boolean | undefined;
}

/**
 * Snapshots in a PostgreSQL table keyed by `(type, id)`. A save is one upsert that only replaces a stored
 * snapshot with a higher seqNo, so racing saves keep the newest and an old one never overwrites it.
 * @example
 * const snapshots = await PostgresSnapshotStore.create({ connectionString: process.env.DATABASE_URL });
 * await Entity.spawn(id, counter, { evtLog, snapshotStore: snapshots, snapshotAfter: 100 });
 */
export class PostgresSnapshotStore implements SnapshotStore {
  readonly #pool: PgQueryPoolLike;
  readonly #ownedPool: OwnedPool | undefined;
  readonly #saveSql: string;
  readonly #loadSql: string;

  private constructor(pool: PgQueryPoolLike, ownedPool: OwnedPool | undefined, tables: SnapshotTables) {
    this.#pool = pool;
    this.#ownedPool = ownedPool;
    this.#saveSql = `INSERT INTO ${tables.snapshots} AS s (type, id, seq_no, bytes) VALUES ($1, $2, $3, $4)
      ON CONFLICT (type, id) DO UPDATE SET seq_no = EXCLUDED.seq_no, bytes = EXCLUDED.bytes, saved_at = now()
      WHERE s.seq_no < EXCLUDED.seq_no`;
    this.#loadSql = `SELECT seq_no, bytes FROM ${tables.snapshots} WHERE type = $1 AND id = $2`;
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
    const connectionString = options.pool === undefined ? options.connectionString : undefined;
    const target = connectionTarget(connectionString, options.pool !== undefined);
    const ownedPool =
      options.pool === undefined
        ? await createPool({
            connectionString,
            max,
            ssl: options.ssl,
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
    return new PostgresSnapshotStore(pool, ownedPool, tables);
  }

  /**
   * Saves the snapshot unless a newer one is stored. Rejects with `InvalidArgumentError` (nothing sent) on
   * an invalid type, id or seqNo or bytes that are not a `Uint8Array`, and with `PersistError` when the
   * statement fails (`outcomeUnknown` when the connection broke after it was sent).
   */
  async save(type: string, id: string, snapshot: Snapshot): Promise<void> {
    validateTypeAndId(type, id);
    validateSnapshot(snapshot);
    const { bytes } = snapshot;
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      await this.#pool.query(this.#saveSql, [type, id, snapshot.seqNo, buffer]);
    } catch (err) {
      throw new PersistError(
        `cannot save the snapshot of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        classifyQueryFailure(err).outcomeUnknown,
        { cause: err },
      );
    }
  }

  /** The stored snapshot; `InvalidArgumentError` on an invalid type or id, `ReadError` when the query fails. */
  async load(type: string, id: string): Promise<Snapshot | undefined> {
    validateTypeAndId(type, id);
    let row: { seq_no: string | number; bytes: Uint8Array } | undefined;
    try {
      const res = await this.#pool.query(this.#loadSql, [type, id]);
      row = res.rows[0] as typeof row;
    } catch (err) {
      throw new ReadError(
        `cannot load the snapshot of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return row === undefined ? undefined : { seqNo: Number(row.seq_no), bytes: row.bytes };
  }

  /** Ends the pool if the store created it; a pool passed in is left open. */
  async close(): Promise<void> {
    await this.#ownedPool?.end();
  }
}

function validateSnapshot(snapshot: Snapshot): void {
  if (!Number.isSafeInteger(snapshot?.seqNo) || snapshot.seqNo < 0) {
    throw new InvalidArgumentError(`invalid snapshot seqNo ${snapshot?.seqNo}: an integer >= 0`);
  }
  if (!(snapshot.bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError("invalid snapshot: bytes must be a Uint8Array");
  }
}
