import type { PgQueryPoolLike } from "@eventsourced/evtlog-postgres";
import { quoteIdentifier, runVersionedSetup, versionTable } from "@eventsourced/evtlog-postgres/internal";

/** The quoted names of one snapshot table. */
export interface SnapshotTables {
  readonly schema: string;
  readonly snapshots: string;
  readonly versions: string;
  readonly component: string;
}

/** Validates and quotes the configured names (`InvalidArgumentError` when they are not plain identifiers). */
export function snapshotTables(schemaName: string, tableName: string): SnapshotTables {
  const schema = quoteIdentifier(schemaName, "schema");
  return {
    schema,
    snapshots: `${schema}.${quoteIdentifier(tableName, "table")}`,
    // Shared with the event log: one version table per schema, one row per component.
    versions: versionTable(schema),
    component: `snapshots:${tableName}`,
  };
}

/** Migrations by version (see `runVersionedSetup`): append only. */
const MIGRATIONS: readonly ((t: SnapshotTables) => string)[] = [
  (t) => `CREATE TABLE IF NOT EXISTS ${t.snapshots} (
      type       text        NOT NULL,
      id         text        NOT NULL,
      seq_no     bigint      NOT NULL,
      bytes      bytea       NOT NULL,
      saved_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (type, id)
    );`,
  // 2: versions and history. Each snapshot carries the version it was written under (NULL for those saved
  // before), and the key gains seq_no so that an entity can keep several snapshots. Existing rows stay:
  // (type, id) was unique, so (type, id, seq_no) is. The old key's name is looked up, not assumed
  // (PostgreSQL shortens generated names of long table names).
  (t) => `
    ALTER TABLE ${t.snapshots} ADD COLUMN IF NOT EXISTS version text;
    DO $$
    DECLARE pkey text;
    BEGIN
      SELECT conname INTO pkey FROM pg_constraint
        WHERE conrelid = '${t.snapshots}'::regclass AND contype = 'p';
      IF pkey IS NOT NULL THEN
        EXECUTE format('ALTER TABLE ${t.snapshots} DROP CONSTRAINT %I', pkey);
      END IF;
    END $$;
    ALTER TABLE ${t.snapshots} ADD PRIMARY KEY (type, id, seq_no);`,
];

/** The schema version this code writes and reads. */
export const SNAPSHOT_SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Brings the snapshot table to {@link SNAPSHOT_SCHEMA_VERSION}, in the event log's versioned setup: one
 * transaction under the database-wide setup lock, so several processes (and logs) may start at once.
 */
export function setupSnapshotSchema(pool: PgQueryPoolLike, t: SnapshotTables): Promise<void> {
  return runVersionedSetup(pool, {
    schema: t.schema,
    versions: t.versions,
    component: t.component,
    migrations: MIGRATIONS.map((migration) => migration(t)),
  });
}
