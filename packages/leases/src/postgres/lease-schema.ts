import type { LeaseTable } from "./lease-table.js";
import type { PgPoolLike } from "./pg-pool-like.js";

/**
 * The advisory lock key of every eventsourced schema setup (FNV-1a-64 of "eventsourced:schema-setup", as in
 * the event log and the snapshot store), so setups of all components in one database run one at a time.
 * Transaction-scoped: it holds behind transaction poolers too.
 */
const SETUP_LOCK_KEY = (() => {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode("eventsourced:schema-setup")) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, hash).toString();
})();

/**
 * Migrations by version; entry `i` brings the table from version `i` to `i + 1`. Append only.
 * Rows are never deleted by the store: a released or expired row keeps its epoch, so the next tenure's
 * epoch is still greater. Free space on each page (fillfactor 50) keeps renewals HOT updates.
 */
const MIGRATIONS: readonly ((t: LeaseTable) => string)[] = [
  (t) => `CREATE TABLE IF NOT EXISTS ${t.qualifiedName} (
      key         text COLLATE "C" PRIMARY KEY,
      owner       text        NOT NULL,
      epoch       bigint      NOT NULL CHECK (epoch > 0),
      expires_at  timestamptz NOT NULL,
      acquired_at timestamptz NOT NULL,
      renewed_at  timestamptz NOT NULL
    ) WITH (fillfactor = 50);`,
];

/** The schema version this code writes and reads. */
export const LEASE_SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Brings the lease table to {@link LEASE_SCHEMA_VERSION}: idempotent, in one transaction under the shared
 * setup lock, so several processes may start at once.
 */
export async function setupLeaseSchema(pool: PgPoolLike, t: LeaseTable): Promise<void> {
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
    for (let version = current; version < LEASE_SCHEMA_VERSION; version++) {
      await client.query(MIGRATIONS[version]!(t));
    }
    if (current < LEASE_SCHEMA_VERSION) {
      await client.query(
        `INSERT INTO ${t.versions} (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
        [t.component, LEASE_SCHEMA_VERSION],
      );
    }
    await client.query("COMMIT");
  } catch (err) {
    // A driver error with a SQLSTATE leaves a usable connection; anything else may not.
    if (!(err instanceof Error && "code" in err))
      broken = err instanceof Error ? err : new Error(String(err));
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release(broken);
  }
}
