// The PostgreSQL cluster store (`@eventsourced/cluster/postgres`).

export { PostgresClusterStore, type PostgresClusterStoreOptions } from "./postgres-cluster-store.js";
