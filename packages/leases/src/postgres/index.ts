// The PostgreSQL lease store (`@eventsourced/leases/postgres`)

export { LEASE_SCHEMA_VERSION } from "./lease-schema.js";
// The table layout, for strict fencing inside other statements
export type { LeaseTable } from "./lease-table.js";
export { PostgresLeaseStore, type PostgresLeaseStoreOptions } from "./postgres-lease-store.js";
