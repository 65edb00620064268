import { InvalidArgumentError, type Logger } from "@eventsourced/core";
import type { PgQueryPoolLike } from "./pg-pool-like.js";
import { quoteDerivedIdentifier, quoteIdentifier } from "./sql-identifier.js";
import { runVersionedSetup, versionTable } from "./versioned-setup.js";

/** The quoted, qualified names of one log's tables. */
export interface LogTables {
  /** Unquoted schema and table names as configured. */
  readonly schemaName: string;
  readonly tableName: string;
  readonly schema: string;
  /** The events: one row per event, `position` gives the global order. */
  readonly events: string;
  /**
   * One row per entity with its last seqNo (conflict detection and O(1) `lastSeqNo`) and how far its
   * events were deleted (`deleted_to`).
   */
  readonly streams: string;
  /** Setup bookkeeping shared by every eventsourced component in the schema. */
  readonly versions: string;
  /** Key of this log in the version table. */
  readonly component: string;
}

/** The longest name derived from the table's: its by-type index. */
const LONGEST_SUFFIX = "_type_position_idx";

/** The longest table name: its derived names must fit PostgreSQL's 63-byte identifiers. */
export const MAX_TABLE_NAME_LENGTH = 63 - LONGEST_SUFFIX.length;

/** Validates and quotes the configured names. */
export function logTables(schemaName: string, tableName: string): LogTables {
  const schema = quoteIdentifier(schemaName, "schema");
  const events = quoteIdentifier(tableName, "table");
  if (tableName.length > MAX_TABLE_NAME_LENGTH) {
    throw new InvalidArgumentError(
      `invalid table name ${JSON.stringify(tableName)}: at most ${MAX_TABLE_NAME_LENGTH} characters (the log names its index ${JSON.stringify(`${tableName}${LONGEST_SUFFIX}`)}, and PostgreSQL allows 63)`,
    );
  }
  return {
    schemaName,
    tableName,
    schema,
    events: `${schema}.${events}`,
    streams: `${schema}.${quoteDerivedIdentifier(`${tableName}_streams`)}`,
    versions: versionTable(schema),
    component: `evtlog:${tableName}`,
  };
}

/**
 * Two indexes on the events table, both needed by reads: the primary key `(type, id, seq_no)` for
 * `evtsById` and `(type, position)` for `evtsByType` (positions come from an identity column, so they are
 * unique without an index of their own). The heads table is updated on every persist; free space on
 * its pages (fillfactor 50) keeps those updates HOT, i.e. without touching its index.
 *
 * Migrations by version (see `runVersionedSetup`): append only.
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
      CONSTRAINT ${quoteDerivedIdentifier(`${t.tableName}_pkey`)} PRIMARY KEY (type, id, seq_no)
    );
    CREATE INDEX IF NOT EXISTS ${quoteDerivedIdentifier(`${t.tableName}${LONGEST_SUFFIX}`)}
      ON ${t.events} (type, position);
    CREATE TABLE IF NOT EXISTS ${t.streams} (
      type        text   NOT NULL,
      id          text   NOT NULL,
      last_seq_no bigint NOT NULL CHECK (last_seq_no > 0),
      PRIMARY KEY (type, id)
    ) WITH (fillfactor = 50);`,
  // 2: retention. `deleted_to` is the highest seqNo whose event was deleted; the head row itself survives
  // deletion, so `last_seq_no` never rewinds. Adding a column with a constant default rewrites nothing.
  (t) => `
    ALTER TABLE ${t.streams} ADD COLUMN IF NOT EXISTS deleted_to bigint NOT NULL DEFAULT 0
      CHECK (deleted_to >= 0);`,
  // 3: commit order by transaction id (ADR 0108). Each event records the id of the transaction that wrote
  // it; by-type readers deliver an event only once every transaction older than it has ended. Adding the
  // column without a default rewrites nothing (rows written before are complete, their `xid` stays null);
  // the default then applies to new rows, including those of writers still running the previous version.
  (t) => `
    ALTER TABLE ${t.events} ADD COLUMN IF NOT EXISTS xid xid8;
    ALTER TABLE ${t.events} ALTER COLUMN xid SET DEFAULT pg_current_xact_id();`,
];

/** The schema version this code writes and reads. */
export const LOG_SCHEMA_VERSION: number = MIGRATIONS.length;

/** Brings the log's tables to {@link LOG_SCHEMA_VERSION} (see `runVersionedSetup`). */
export function setupLogSchema(pool: PgQueryPoolLike, tables: LogTables, logger: Logger): Promise<void> {
  return runVersionedSetup(pool, {
    schema: tables.schema,
    versions: tables.versions,
    component: tables.component,
    migrations: MIGRATIONS.map((migration) => migration(tables)),
    logger,
  });
}
