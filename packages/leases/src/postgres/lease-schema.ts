import type { PgQueryPoolLike } from "@eventsourced/evtlog-postgres";
import { runVersionedSetup } from "@eventsourced/evtlog-postgres/internal";
import type { LeaseTable } from "./lease-table.js";

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
 * Brings the lease table to {@link LEASE_SCHEMA_VERSION}: idempotent, in one transaction under the setup
 * lock every eventsourced component shares, so several processes may start at once.
 */
export function setupLeaseSchema(pool: PgQueryPoolLike, t: LeaseTable): Promise<void> {
  return runVersionedSetup(pool, {
    schema: t.schema,
    versions: t.versions,
    component: t.component,
    migrations: MIGRATIONS.map((migration) => migration(t)),
  });
}
