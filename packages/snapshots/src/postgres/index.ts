// The PostgreSQL snapshot store (`@eventsourced/snapshots/postgres`)

export type { PgClientLike, PgPoolLike, PgResultLike } from "./pg-pool-like.js";
export { PostgresSnapshotStore, type PostgresSnapshotStoreOptions } from "./postgres-snapshot-store.js";
