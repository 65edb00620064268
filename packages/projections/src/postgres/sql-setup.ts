// Identifier quoting and the versioned setup runner, as in `@eventsourced/evtlog-postgres` (schema.ts,
// sql-identifier.ts) and the snapshot store: one copy here until the log's `./internal` subpath exports
// them, then this file goes (same names, same lock key, same version table).
import { InvalidArgumentError } from "@eventsourced/core";
import type { PgPoolLike } from "./pg-like.js";

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

/** Same key as the log's and the snapshot store's setup, so every eventsourced setup in a database is serialised. */
const SETUP_LOCK_KEY = (() => {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode("eventsourced:schema-setup")) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, hash).toString();
})();

/** One component's tables in the shared version table. */
export interface VersionedComponent {
  /** Quoted schema. */
  readonly schema: string;
  /** Quoted, qualified version table (`<schema>."eventsourced_schema_version"`). */
  readonly versions: string;
  /** Key of the component in the version table. */
  readonly component: string;
  /** DDL by version: entry `i` brings the tables from version `i` to `i + 1`. Append only. */
  readonly migrations: readonly string[];
}

/**
 * Brings a component's tables to the latest version: idempotent, in one transaction under the database-wide
 * setup lock, so several processes may start at once (one migrates, the others find the version recorded).
 */
export async function setupSchema(pool: PgPoolLike, c: VersionedComponent): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [SETUP_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${c.schema};
      CREATE TABLE IF NOT EXISTS ${c.versions} (
        component  text PRIMARY KEY,
        version    integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );`);
    const found = await client.query(`SELECT version FROM ${c.versions} WHERE component = $1`, [c.component]);
    const current = (found.rows[0] as { version: number } | undefined)?.version ?? 0;
    for (let version = current; version < c.migrations.length; version++) {
      await client.query(c.migrations[version]!);
    }
    if (current < c.migrations.length) {
      await client.query(
        `INSERT INTO ${c.versions} (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
        [c.component, c.migrations.length],
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
