import { quoteIdentifier, versionTable } from "@eventsourced/evtlog-postgres/internal";

/**
 * Where and how a PostgreSQL lease store keeps its leases: one row per key, kept after expiry and release
 * (so epochs keep increasing), `expires_at` always computed by the server's `clock_timestamp()`.
 *
 * ```sql
 * CREATE TABLE <schema>.<table> (
 *   key         text COLLATE "C" PRIMARY KEY,
 *   owner       text        NOT NULL,
 *   epoch       bigint      NOT NULL CHECK (epoch > 0),  -- +1 on every takeover, kept by renewals
 *   expires_at  timestamptz NOT NULL,                    -- live while expires_at > clock_timestamp()
 *   acquired_at timestamptz NOT NULL,
 *   renewed_at  timestamptz NOT NULL
 * ) WITH (fillfactor = 50);                              -- renewals stay HOT updates
 * ```
 */
export interface LeaseTable {
  /** Schema and table names as configured (unquoted). */
  readonly schemaName: string;
  readonly tableName: string;
  /** `"<schema>"`, quoted. */
  readonly schema: string;
  /** `"<schema>"."<table>"`, quoted: use it in SQL as is. */
  readonly qualifiedName: string;
  /** The column names (plain lower-case identifiers, usable unquoted). */
  readonly columns: {
    readonly key: "key";
    readonly owner: "owner";
    readonly epoch: "epoch";
    readonly expiresAt: "expires_at";
  };
  /** The version table shared by every eventsourced component in the schema (quoted). */
  readonly versions: string;
  /** This table's row in the version table. */
  readonly component: string;
  /**
   * A statement that locks the row of one live tenure `FOR SHARE`, for strict fencing inside a writing
   * statement of the same transaction: it returns one row while `(key, owner, epoch)` is the unexpired
   * tenure, none otherwise, and no takeover happens until the transaction ends (the store's acquire skips
   * the locked row, returning "not acquired"; any other `UPDATE` of it waits).
   * The arguments are SQL expressions, normally parameter placeholders such as `"$5"`; never user input.
   * @example
   * `WITH fence AS MATERIALIZED (${table.fenceSql("$5", "$6", "$7")})
   *  INSERT INTO events SELECT ... WHERE EXISTS (SELECT FROM fence)`
   */
  fenceSql(key: string, owner: string, epoch: string): string;
}

/** Validates and quotes the configured names. */
export function leaseTable(schemaName: string, tableName: string): LeaseTable {
  const schema = quoteIdentifier(schemaName, "schema");
  const qualifiedName = `${schema}.${quoteIdentifier(tableName, "table")}`;
  return {
    schemaName,
    tableName,
    schema,
    qualifiedName,
    columns: { key: "key", owner: "owner", epoch: "epoch", expiresAt: "expires_at" },
    versions: versionTable(schema),
    component: `leases:${tableName}`,
    fenceSql: (key, owner, epoch) =>
      `SELECT 1 FROM ${qualifiedName} WHERE key = ${key} AND owner = ${owner} AND epoch = (${epoch})::bigint` +
      " AND expires_at > clock_timestamp() FOR SHARE",
  };
}
