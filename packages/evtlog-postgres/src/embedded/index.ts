// The embedded PostgreSQL (`@eventsourced/evtlog-postgres/embedded`): PGlite served over a loopback socket
export {
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  startEmbeddedPostgres,
} from "./start-embedded-postgres.js";
