import type { ConnectionOptions } from "node:tls";
import {
  ConnectionError,
  PersistError,
  ReadError,
  type Snapshot,
  type SnapshotStore,
  validateTypeAndId,
} from "@eventsourced/core";
import type { PgPoolLike } from "./pg-pool-like.js";
import { type SnapshotTables, setupSnapshotSchema, snapshotTables } from "./snapshot-schema.js";

/** Options of {@link PostgresSnapshotStore.create}. */
export interface PostgresSnapshotStoreOptions {
  /** The store creates (and on `close` ends) its own `pg.Pool` from it; ignored when `pool` is given. */
  readonly connectionString?: string | undefined;
  /**
   * An existing `pg`-compatible pool, never ended by the store. On the embedded PGlite server, pass the
   * single-connection pool you share with the event log.
   */
  readonly pool?: PgPoolLike | undefined;
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

interface OwnedPool extends PgPoolLike {
  end(): Promise<void>;
}

const CONNECT_FAILURES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "28P01",
  "28000",
  "3D000",
  "53300",
  "57P03",
]);

/** `host:port/database` of the server, never credentials. */
function targetOf(connectionString: string | undefined, pool: PgPoolLike | undefined): string {
  const source = connectionString ?? pool?.options?.connectionString;
  if (source !== undefined) {
    try {
      const url = new URL(source);
      return `${url.hostname || "localhost"}:${url.port || "5432"}/${decodeURIComponent(url.pathname.slice(1)) || "postgres"}`;
    } catch {
      return "PostgreSQL (connection string not a URL)";
    }
  }
  const o = pool?.options;
  return `${o?.host ?? "localhost"}:${o?.port ?? 5432}/${o?.database ?? "postgres"}`;
}

/**
 * Snapshots in a PostgreSQL table keyed by `(type, id)`. A save is one upsert that only replaces a stored
 * snapshot with a higher seqNo, so racing saves keep the newest and an old one never overwrites it.
 * @example
 * const snapshots = await PostgresSnapshotStore.create({ connectionString: process.env.DATABASE_URL });
 * await Entity.spawn(id, counter, { evtLog, snapshotStore: snapshots, snapshotAfter: 100 });
 */
export class PostgresSnapshotStore implements SnapshotStore {
  readonly #pool: PgPoolLike;
  readonly #ownedPool: OwnedPool | undefined;
  readonly #saveSql: string;
  readonly #loadSql: string;

  private constructor(pool: PgPoolLike, ownedPool: OwnedPool | undefined, tables: SnapshotTables) {
    this.#pool = pool;
    this.#ownedPool = ownedPool;
    this.#saveSql = `INSERT INTO ${tables.snapshots} AS s (type, id, seq_no, bytes) VALUES ($1, $2, $3, $4)
      ON CONFLICT (type, id) DO UPDATE SET seq_no = EXCLUDED.seq_no, bytes = EXCLUDED.bytes, saved_at = now()
      WHERE s.seq_no < EXCLUDED.seq_no`;
    this.#loadSql = `SELECT seq_no, bytes FROM ${tables.snapshots} WHERE type = $1 AND id = $2`;
  }

  /**
   * Connects, runs the schema setup (unless `setup: false`) and returns the store. Rejects with
   * `ConnectionError` naming host, port and database (never the password) when the server is unreachable.
   */
  static async create(options: PostgresSnapshotStoreOptions = {}): Promise<PostgresSnapshotStore> {
    const tables = snapshotTables(options.schema ?? "eventsourced", options.table ?? "snapshots");
    const connectionString = options.pool === undefined ? options.connectionString : undefined;
    const target = targetOf(connectionString, options.pool);
    let ownedPool: OwnedPool | undefined;
    if (options.pool === undefined) {
      const pg = await import("pg");
      const Pool = pg.default?.Pool ?? pg.Pool;
      const created = new Pool({
        connectionString,
        max: options.maxConnections ?? 4,
        ssl: options.ssl,
        application_name: "eventsourced-snapshots",
        connectionTimeoutMillis: 10_000,
      });
      created.on("error", () => {});
      ownedPool = created as unknown as OwnedPool;
    }
    const pool = options.pool ?? (ownedPool as OwnedPool);
    try {
      if (options.setup ?? true) await setupSnapshotSchema(pool, tables);
      else await pool.query("SELECT 1");
    } catch (err) {
      await ownedPool?.end().catch(() => {});
      const code = (err as { code?: unknown }).code;
      if (typeof code === "string" && CONNECT_FAILURES.has(code)) {
        throw new ConnectionError(
          `cannot connect to PostgreSQL at ${target}: ${(err as Error).message}`,
          target,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
    return new PostgresSnapshotStore(pool, ownedPool, tables);
  }

  async save(type: string, id: string, snapshot: Snapshot): Promise<void> {
    validateTypeAndId(type, id);
    const bytes = Buffer.from(snapshot.bytes.buffer, snapshot.bytes.byteOffset, snapshot.bytes.byteLength);
    try {
      await this.#pool.query(this.#saveSql, [type, id, snapshot.seqNo, bytes]);
    } catch (err) {
      throw new PersistError(
        `cannot save the snapshot of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        (err as { code?: unknown }).code === undefined,
        { cause: err },
      );
    }
  }

  async load(type: string, id: string): Promise<Snapshot | undefined> {
    validateTypeAndId(type, id);
    let row: { seq_no: string | number; bytes: Uint8Array } | undefined;
    try {
      const res = await this.#pool.query(this.#loadSql, [type, id]);
      row = res.rows[0] as typeof row;
    } catch (err) {
      throw new ReadError(
        `cannot load the snapshot of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return row === undefined ? undefined : { seqNo: Number(row.seq_no), bytes: row.bytes };
  }

  /** Ends the pool if the store created it; a pool passed in is left open. */
  async close(): Promise<void> {
    await this.#ownedPool?.end();
  }
}
