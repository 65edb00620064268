// The PostgreSQL snapshot store (`@eventsourced/snapshots/postgres`)

// The pool interface the store needs (`pg.Pool` satisfies it), shared with the event log.
export type {
  PgQueryClientLike as PgClientLike,
  PgQueryPoolLike as PgPoolLike,
  PgResultLike,
} from "@eventsourced/evtlog-postgres";
export { PostgresSnapshotStore, type PostgresSnapshotStoreOptions } from "./postgres-snapshot-store.js";
export { SNAPSHOT_SCHEMA_VERSION } from "./snapshot-schema.js";
