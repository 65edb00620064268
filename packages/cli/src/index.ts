// The `eventsourced` admin CLI, callable from code as well (`runCli`); the config loader it shares with
// applications is in "@eventsourced/cli/config".

// Admin backends (what the commands use)
export type {
  AdminBackend,
  AdminClusterStore,
  AdminSnapshotStore,
  ListingEvtLog,
  ListingProjectionStore,
  SchemaComponent,
} from "./backends/admin-backend.js";
// Configuration
export { CLI_CONFIG_SCHEMA, type CliConfig, type ConfigOptions, loadCliConfig } from "./cli-config.js";
// Errors
export { AdminCommandError, CliUsageError } from "./cli-errors.js";
// Decoding stored bytes
export {
  type DecodedBytes,
  type Decoder,
  decodeEvt,
  decodeState,
  loadDecoder,
  toJsonSafe,
} from "./decode-bytes.js";
// Running a command line
export { type CliIo, EXIT, runCli } from "./run-cli.js";
