import type { ConnectionOptions } from "node:tls";
import { ConfigurationError, ConnectionError, InvalidArgumentError } from "@eventsourced/core";
import type { PgQueryPoolLike } from "@eventsourced/evtlog-postgres";
import {
  connectionTarget,
  createPool,
  type OwnedPool,
  quoteIdentifier,
  runVersionedSetup,
  setupError,
  versionTable,
} from "@eventsourced/evtlog-postgres/internal";
import type { ClusterStore } from "../cluster-store.js";
import { byTypeThenMember, type ClusterStoreInspector, type LiveMember } from "../cluster-store-inspector.js";
import type { ShardConfig } from "../errors.js";
import { recordedShardConfig } from "../shard-config-check.js";

const SOURCE = "PostgresClusterStoreOptions";

/** Options of {@link PostgresClusterStore.create}. */
export interface PostgresClusterStoreOptions {
  /** How long a heartbeat keeps a member alive, on the database's clock; default 5,000 ms (see `NatsClusterStoreOptions.memberTtlMs`). */
  readonly memberTtlMs?: number | undefined;
  /** The store creates (and on `close` ends) its own pool from it; ignored when `pool` is given. */
  readonly connectionString?: string | undefined;
  /** An existing `pg`-compatible pool, never ended by the store. */
  readonly pool?: PgQueryPoolLike | undefined;
  /** Default `"eventsourced"`. */
  readonly schema?: string | undefined;
  /** Size of the pool created from `connectionString`; default 2. */
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
}

const MIGRATIONS = (schema: string): string[] => [
  `CREATE TABLE IF NOT EXISTS ${schema}.cluster_config (
      cluster     text COLLATE "C" PRIMARY KEY,
      shard_count integer NOT NULL,
      hash        text    NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${schema}.cluster_members (
      cluster    text COLLATE "C" NOT NULL,
      type       text COLLATE "C" NOT NULL,
      member     text COLLATE "C" NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (cluster, type, member)
    );`,
];

/**
 * {@link ClusterStore} in two PostgreSQL tables, for deployments whose log and leases live in PostgreSQL and
 * that route over NATS core (no JetStream): `cluster_config` (the shard function, inserted once with
 * `ON CONFLICT DO NOTHING` and read back) and `cluster_members` (one row per node, `expires_at` stamped
 * with the database's `clock_timestamp()`; rows expired for a minute are deleted by later heartbeats).
 * @example
 * const store = await PostgresClusterStore.create({ connectionString: process.env.DATABASE_URL });
 * const node = new ClusterNode(counter, { nats, transport: new NatsTransport(nats), store, leaseStore, registry });
 */
export class PostgresClusterStore implements ClusterStore {
  readonly memberTtlMs: number;
  readonly #pool: PgQueryPoolLike;
  readonly #owned: OwnedPool | undefined;
  readonly #schema: string;
  readonly #target: string;

  private constructor(
    memberTtlMs: number,
    pool: PgQueryPoolLike,
    owned: OwnedPool | undefined,
    schema: string,
    target: string,
  ) {
    this.memberTtlMs = memberTtlMs;
    this.#pool = pool;
    this.#owned = owned;
    this.#schema = schema;
    this.#target = target;
  }

  /** Connects and creates the two tables if needed (`ConnectionError` naming the server when unreachable). */
  static async create(options: PostgresClusterStoreOptions = {}): Promise<PostgresClusterStore> {
    const memberTtlMs = options.memberTtlMs ?? 5_000;
    if (!Number.isInteger(memberTtlMs) || memberTtlMs < 1_000 || memberTtlMs > 600_000) {
      throw new ConfigurationError(
        `memberTtlMs must be an integer from 1000 to 600000, got ${String(memberTtlMs)}`,
        "memberTtlMs",
        SOURCE,
      );
    }
    const max = options.maxConnections ?? 2;
    if (!Number.isInteger(max) || max < 1) {
      throw new InvalidArgumentError(`invalid maxConnections ${max}: must be a positive integer`);
    }
    const { schema, target, owned, pool } = await openTables(options, max, "eventsourced-cluster");
    try {
      await runVersionedSetup(pool, {
        schema,
        versions: versionTable(schema),
        component: "cluster",
        migrations: MIGRATIONS(schema),
      });
    } catch (err) {
      await owned?.end().catch(() => {});
      throw setupError(err, target, "set up the cluster tables");
    }
    return new PostgresClusterStore(memberTtlMs, pool, owned, schema, target);
  }

  async recordShardConfig(cluster: string, config: ShardConfig): Promise<ShardConfig> {
    // A concurrent first record (a node and a client starting together) commits after this statement's
    // snapshot: the insert then does nothing and the select cannot see the other row yet. The next statement
    // sees it, so one more round settles it.
    for (let attempt = 0; ; attempt++) {
      const recorded = await this.#recordShardConfigOnce(cluster, config);
      if (recorded !== undefined || attempt >= 2) {
        if (recorded === undefined) {
          throw new ConfigurationError(
            `no shard configuration could be recorded or read for cluster ${cluster} in ${this.#schema}.cluster_config`,
            "cluster",
            SOURCE,
          );
        }
        return recorded;
      }
    }
  }

  async shardConfig(cluster: string): Promise<ShardConfig | undefined> {
    const result = await this.#query(
      `SELECT shard_count, hash FROM ${this.#schema}.cluster_config WHERE cluster = $1`,
      [cluster],
    );
    const row = result.rows[0] as { shard_count: number; hash: string } | undefined;
    return row === undefined ? undefined : { shardCount: row.shard_count, hash: row.hash };
  }

  async #recordShardConfigOnce(cluster: string, config: ShardConfig): Promise<ShardConfig | undefined> {
    const result = await this.#query(
      `WITH inserted AS (
         INSERT INTO ${this.#schema}.cluster_config (cluster, shard_count, hash) VALUES ($1, $2, $3)
         ON CONFLICT (cluster) DO NOTHING RETURNING shard_count, hash)
       SELECT shard_count, hash FROM inserted
       UNION ALL SELECT shard_count, hash FROM ${this.#schema}.cluster_config WHERE cluster = $1
       LIMIT 1`,
      [cluster, config.shardCount, config.hash],
    );
    const row = result.rows[0] as { shard_count: number; hash: string } | undefined;
    return row === undefined ? undefined : { shardCount: row.shard_count, hash: row.hash };
  }

  async heartbeat(cluster: string, type: string, member: string): Promise<void> {
    await this.#query(
      `WITH beat AS (
         INSERT INTO ${this.#schema}.cluster_members (cluster, type, member, expires_at)
         VALUES ($1, $2, $3, clock_timestamp() + $4 * interval '1 millisecond')
         ON CONFLICT (cluster, type, member) DO UPDATE SET expires_at = EXCLUDED.expires_at)
       DELETE FROM ${this.#schema}.cluster_members
       WHERE cluster = $1 AND type = $2 AND expires_at < clock_timestamp() - interval '1 minute'`,
      [cluster, type, member, this.memberTtlMs],
    );
  }

  async members(cluster: string, type: string): Promise<string[]> {
    const result = await this.#query(
      `SELECT member FROM ${this.#schema}.cluster_members
       WHERE cluster = $1 AND type = $2 AND expires_at > clock_timestamp()`,
      [cluster, type],
    );
    return result.rows.map((row) => (row as { member: string }).member);
  }

  async leave(cluster: string, type: string, member: string): Promise<void> {
    await this.#query(
      `DELETE FROM ${this.#schema}.cluster_members WHERE cluster = $1 AND type = $2 AND member = $3`,
      [cluster, type, member],
    );
  }

  /** Ends the pool the store created (a pool passed in stays open). */
  async close(): Promise<void> {
    await this.#owned?.end();
  }

  async #query(text: string, values: unknown[]): Promise<{ rows: unknown[] }> {
    try {
      return await this.#pool.query(text, values);
    } catch (err) {
      throw new ConnectionError(
        `cluster store query failed on ${this.#target}: ${String(err)}`,
        this.#target,
        {
          cause: err,
        },
      );
    }
  }
}

/** Options of {@link inspectPostgresClusterStore}: where the store's tables are. */
export type PostgresClusterStoreInspectOptions = Pick<
  PostgresClusterStoreOptions,
  "connectionString" | "pool" | "schema" | "ssl" | "serverKeepalive"
>;

/** {@link ClusterStoreInspector} of {@link inspectPostgresClusterStore}. */
export interface PostgresClusterStoreInspector extends ClusterStoreInspector {
  /** Ends the pool created from `connectionString` (a pool passed in stays open). */
  close(): Promise<void>;
}

/**
 * Opens the tables of {@link PostgresClusterStore} in `schema` for an operator's tool: reads the recorded
 * shard functions and the live members, and can forget a shard function. Creates nothing: without the
 * tables there is no record and no member. `close()` ends the pool it created from `connectionString`.
 */
export async function inspectPostgresClusterStore(
  options: PostgresClusterStoreInspectOptions = {},
): Promise<PostgresClusterStoreInspector> {
  const { schema, target, owned, pool } = await openTables(options, 1, "eventsourced-cluster-inspect");
  const query = async (what: string, text: string, values: unknown[]): Promise<unknown[]> => {
    try {
      return (await pool.query(text, values)).rows;
    } catch (err) {
      // 42P01: undefined_table (the store was never set up in this schema); 3F000: invalid_schema_name.
      const code = (err as { code?: unknown }).code;
      if (code === "42P01" || code === "3F000") return [];
      throw new ConnectionError(`cannot ${what} on ${target}: ${String(err)}`, target, { cause: err });
    }
  };
  return {
    where: `PostgreSQL ${target}, tables ${schema}.cluster_config and ${schema}.cluster_members`,
    async shardFunction(cluster) {
      const rows = await query(
        "read the shard function",
        `SELECT shard_count, hash FROM ${schema}.cluster_config WHERE cluster = $1`,
        [cluster],
      );
      const row = rows[0] as { shard_count: number; hash: string } | undefined;
      if (row === undefined) return undefined;
      const value = { shardCount: row.shard_count, hash: row.hash };
      try {
        return { value, config: recordedShardConfig(`${schema}.cluster_config ${cluster}`, value) };
      } catch (error) {
        return { value, config: undefined, problem: (error as Error).message };
      }
    },
    async liveMembers(cluster) {
      const rows = await query(
        "list the members",
        `SELECT type, member FROM ${schema}.cluster_members
         WHERE cluster = $1 AND expires_at > clock_timestamp()`,
        [cluster],
      );
      return (rows as LiveMember[]).map(({ type, member }) => ({ type, member })).sort(byTypeThenMember);
    },
    async forgetShardFunction(cluster) {
      const rows = await query(
        "forget the shard function",
        `DELETE FROM ${schema}.cluster_config WHERE cluster = $1 RETURNING cluster`,
        [cluster],
      );
      return rows.length > 0;
    },
    async close() {
      await owned?.end();
    },
  };
}

/** The quoted schema, the server's name for errors, and the pool: the one given, or one created (`owned`). */
async function openTables(
  options: PostgresClusterStoreInspectOptions,
  max: number,
  applicationName: string,
): Promise<{ schema: string; target: string; owned: OwnedPool | undefined; pool: PgQueryPoolLike }> {
  const schema = quoteIdentifier(options.schema ?? "eventsourced", "schema");
  const connectionString = options.pool === undefined ? options.connectionString : undefined;
  const target = connectionTarget(connectionString, options.pool !== undefined);
  const owned =
    options.pool === undefined
      ? await createPool({
          connectionString,
          max,
          ssl: options.ssl,
          applicationName,
          serverKeepalive: options.serverKeepalive ?? true,
          onIdleError: () => {},
        })
      : undefined;
  return { schema, target, owned, pool: options.pool ?? (owned as OwnedPool) };
}
