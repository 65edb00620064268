// The PostgreSQL cluster store (`@eventsourced/cluster/postgres`).

export {
  inspectPostgresClusterStore,
  PostgresClusterStore,
  type PostgresClusterStoreInspectOptions,
  type PostgresClusterStoreInspector,
  type PostgresClusterStoreOptions,
} from "./postgres-cluster-store.js";
