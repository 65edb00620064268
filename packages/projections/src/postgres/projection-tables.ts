import {
  quoteIdentifier,
  type VersionedComponent,
  versionTable,
} from "@eventsourced/evtlog-postgres/internal";

/** The quoted names of one projection store's tables. */
export interface ProjectionTables extends VersionedComponent {
  /** One row per projection: checkpoint, lease epoch, status. */
  readonly projections: string;
  /** Dead letters, keyed by projection and position. */
  readonly deadLetters: string;
}

/**
 * `<table>` holds one row per projection, updated by every batch (fillfactor 50 keeps those updates HOT);
 * `<table>_dead_letters` the events given up on, with their bytes, so they can be re-driven without the log.
 */
export function projectionTables(schemaName: string, tableName: string): ProjectionTables {
  const schema = quoteIdentifier(schemaName, "schema");
  const projections = `${schema}.${quoteIdentifier(tableName, "table")}`;
  const deadLetters = `${schema}.${quoteIdentifier(`${tableName}_dead_letters`, "table")}`;
  return {
    schema,
    projections,
    deadLetters,
    versions: versionTable(schema),
    component: `projections:${tableName}`,
    migrations: [
      `CREATE TABLE IF NOT EXISTS ${projections} (
        name          text        PRIMARY KEY,
        type          text        NOT NULL,
        position      bigint      NOT NULL DEFAULT 0,
        epoch         bigint      NOT NULL DEFAULT 0,
        status        text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'paused', 'failed')),
        error         text,
        last_event_at timestamptz,
        updated_at    timestamptz NOT NULL DEFAULT now()
      ) WITH (fillfactor = 50);
      CREATE TABLE IF NOT EXISTS ${deadLetters} (
        name         text        NOT NULL,
        position     bigint      NOT NULL,
        type         text        NOT NULL,
        id           text        NOT NULL,
        seq_no       bigint      NOT NULL,
        recorded_at  timestamptz NOT NULL,
        content_type text,
        metadata     jsonb,
        bytes        bytea       NOT NULL,
        error        text        NOT NULL,
        attempts     integer     NOT NULL,
        failed_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, position)
      );`,
      // 2: operator requests (rebuild, re-drive) for the active instance, read with the row by its status poll.
      `ALTER TABLE ${projections} ADD COLUMN IF NOT EXISTS requests jsonb NOT NULL DEFAULT '[]'::jsonb;`,
    ],
  };
}

/** The schema version of the projection tables this code writes and reads (for `eventsourced schema status`). */
export const PROJECTION_SCHEMA_VERSION: number = projectionTables("eventsourced", "projections").migrations
  .length;
