import { InvalidArgumentError } from "@eventsourced/core";
import type { PgPoolLike } from "./pg-pool-like.js";

/** Schema and table names: a letter or `_`, then letters, digits or `_`, at most 48 characters. */
const SQL_IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** Validates `name` (so configuration cannot inject SQL) and double-quotes it (so case and keywords are literal). */
export function quoteIdentifier(name: string, what: string): string {
  if (typeof name !== "string" || !SQL_IDENTIFIER_PATTERN.test(name)) {
    throw new InvalidArgumentError(
      `invalid ${what} name ${JSON.stringify(name)}: must match ${SQL_IDENTIFIER_PATTERN}`,
    );
  }
  return `"${name}"`;
}

/** The quoted names of one snapshot table. */
export interface SnapshotTables {
  readonly schema: string;
  readonly snapshots: string;
  readonly versions: string;
  readonly component: string;
}

/** Validates and quotes the configured names. */
export function snapshotTables(schemaName: string, tableName: string): SnapshotTables {
  const schema = quoteIdentifier(schemaName, "schema");
  return {
    schema,
    snapshots: `${schema}.${quoteIdentifier(tableName, "table")}`,
    // Shared with the event log: one version table per schema, one row per component.
    versions: `${schema}."eventsourced_schema_version"`,
    component: `snapshots:${tableName}`,
  };
}

/** Same key as the event log's setup, so every eventsourced setup in a database is serialised. */
const SETUP_LOCK_KEY = (() => {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode("eventsourced:schema-setup")) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, hash).toString();
})();

/** Migrations by version; append only. */
const MIGRATIONS: readonly ((t: SnapshotTables) => string)[] = [
  (t) => `CREATE TABLE IF NOT EXISTS ${t.snapshots} (
      type       text        NOT NULL,
      id         text        NOT NULL,
      seq_no     bigint      NOT NULL,
      bytes      bytea       NOT NULL,
      saved_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (type, id)
    );`,
];

/** The schema version this code writes and reads. */
export const SNAPSHOT_SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Brings the snapshot table to {@link SNAPSHOT_SCHEMA_VERSION}: idempotent, in one transaction under a
 * database-wide advisory lock, so several processes may start at once.
 */
export async function setupSnapshotSchema(pool: PgPoolLike, t: SnapshotTables): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [SETUP_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${t.schema};
      CREATE TABLE IF NOT EXISTS ${t.versions} (
        component  text PRIMARY KEY,
        version    integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );`);
    const found = await client.query(`SELECT version FROM ${t.versions} WHERE component = $1`, [t.component]);
    const current = (found.rows[0] as { version: number } | undefined)?.version ?? 0;
    for (let version = current; version < SNAPSHOT_SCHEMA_VERSION; version++) {
      await client.query(MIGRATIONS[version]!(t));
    }
    if (current < SNAPSHOT_SCHEMA_VERSION) {
      await client.query(
        `INSERT INTO ${t.versions} (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
        [t.component, SNAPSHOT_SCHEMA_VERSION],
      );
    }
    await client.query("COMMIT");
  } catch (err) {
    if (!(err instanceof Error && "code" in err))
      broken = err instanceof Error ? err : new Error(String(err));
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release(broken);
  }
}
