import type { Logger } from "@eventsourced/core";
import { SETUP_LOCK_KEY } from "./advisory-lock-key.js";
import type { PgPoolLike } from "./pg-pool-like.js";
import { quoteIdentifier } from "./sql-identifier.js";

/** The quoted, qualified names of one log's tables. */
export interface LogTables {
  /** Unquoted schema and table names as configured. */
  readonly schemaName: string;
  readonly tableName: string;
  readonly schema: string;
  /** The events: one row per event, `position` gives the global order. */
  readonly events: string;
  /** One row per entity with its last seqNo: conflict detection and O(1) `lastSeqNo`. */
  readonly streams: string;
  /** Setup bookkeeping shared by every eventsourced component in the schema. */
  readonly versions: string;
  /** Key of this log in the version table. */
  readonly component: string;
}

/** Validates and quotes the configured names. */
export function logTables(schemaName: string, tableName: string): LogTables {
  const schema = quoteIdentifier(schemaName, "schema");
  quoteIdentifier(tableName, "table");
  return {
    schemaName,
    tableName,
    schema,
    events: `${schema}.${quoteIdentifier(tableName, "table")}`,
    streams: `${schema}.${quoteIdentifier(`${tableName}_streams`, "table")}`,
    versions: `${schema}."eventsourced_schema_version"`,
    component: `evtlog:${tableName}`,
  };
}

/**
 * Two indexes on the events table, both needed by reads: the primary key `(type, id, seq_no)` for
 * `evtsById` and `(type, position)` for `evtsByType` (positions come from an identity column, so they are
 * unique without an index of their own). The heads table is updated on every persist; free space on
 * its pages (fillfactor 50) keeps those updates HOT, i.e. without touching its index.
 *
 * Migrations by version: entry `i` brings the tables from version `i` to `i + 1`. Append only; never edit
 * a released entry, since databases record which versions they ran.
 */
const MIGRATIONS: readonly ((t: LogTables) => string)[] = [
  (t) => `
    CREATE TABLE IF NOT EXISTS ${t.events} (
      position     bigint      GENERATED ALWAYS AS IDENTITY,
      type         text        NOT NULL,
      id           text        NOT NULL,
      seq_no       bigint      NOT NULL CHECK (seq_no > 0),
      recorded_at  timestamptz NOT NULL DEFAULT now(),
      content_type text,
      metadata     jsonb,
      bytes        bytea       NOT NULL,
      CONSTRAINT ${quoteIdentifier(`${t.tableName}_pkey`, "constraint")} PRIMARY KEY (type, id, seq_no)
    );
    CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${t.tableName}_type_position_idx`, "index")}
      ON ${t.events} (type, position);
    CREATE TABLE IF NOT EXISTS ${t.streams} (
      type        text   NOT NULL,
      id          text   NOT NULL,
      last_seq_no bigint NOT NULL CHECK (last_seq_no > 0),
      PRIMARY KEY (type, id)
    ) WITH (fillfactor = 50);`,
];

/** The schema version this code writes and reads. */
export const LOG_SCHEMA_VERSION: number = MIGRATIONS.length;

/** DDL of the version table, shared with the snapshot store (same name, same layout). */
export function versionTableDdl(schema: string, versions: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${schema};
    CREATE TABLE IF NOT EXISTS ${versions} (
      component  text PRIMARY KEY,
      version    integer NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );`;
}

/**
 * Brings the log's tables to {@link LOG_SCHEMA_VERSION}. Idempotent, and safe when several processes start
 * at once: everything runs in one transaction holding a database-wide advisory lock, so exactly one process
 * migrates and the others then find the version already recorded.
 */
export async function setupLogSchema(pool: PgPoolLike, tables: LogTables, logger: Logger): Promise<void> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [SETUP_LOCK_KEY]);
    await client.query(versionTableDdl(tables.schema, tables.versions));
    const found = await client.query(`SELECT version FROM ${tables.versions} WHERE component = $1`, [
      tables.component,
    ]);
    const current = (found.rows[0] as { version: number } | undefined)?.version ?? 0;
    if (current > LOG_SCHEMA_VERSION) {
      logger.warn("event log schema is newer than this code; using it as is", {
        component: tables.component,
        databaseVersion: current,
        codeVersion: LOG_SCHEMA_VERSION,
      });
    }
    for (let version = current; version < LOG_SCHEMA_VERSION; version++) {
      await client.query(MIGRATIONS[version]!(tables));
    }
    if (current < LOG_SCHEMA_VERSION) {
      await client.query(
        `INSERT INTO ${tables.versions} (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
        [tables.component, LOG_SCHEMA_VERSION],
      );
    }
    await client.query("COMMIT");
  } catch (err) {
    failed = err instanceof Error ? err : new Error(String(err));
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release(failed !== undefined && !("code" in failed) ? failed : undefined);
  }
}
