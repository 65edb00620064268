/**
 * Internals shared with sibling packages (the PostgreSQL snapshot store, leases), tests and benchmarks; not
 * public API and may change in any release. Left out of the API reference (`@internal`).
 * @module
 * @internal
 */

// Naming and locking
export { advisoryLockKey, SETUP_LOCK_KEY } from "./advisory-lock-key.js";
// Reading by type behind the transaction-id horizon (ADR 0108)
export { AppendSignal } from "./append-signal.js";
// Encoding batch parameters and decoding batch results (tested against pg's own)
export { arrayLiteral } from "./array-literal.js";
export { batchResultTypes, parseIntArray } from "./batch-result-types.js";
// Connecting and classifying failures
export { checkOut } from "./check-out.js";
export { CommitNotifier, notificationPayload, notifiedTypes } from "./commit-notifier.js";
export { connectionTarget } from "./connection-target.js";
export { createPool, type OwnedPool } from "./create-pool.js";
export {
  type ByTypeContext,
  evtsByTypeAheadStatement,
  evtsByTypeStatement,
  readEvtsByType,
} from "./evts-by-type.js";
export { HeldBackWarning, type OldestTransaction, oldestTransaction } from "./held-back-warning.js";
export { ListenerPresence, listenerName } from "./listener-presence.js";
export { NotificationListener } from "./notification-listener.js";
export {
  classifyQueryFailure,
  connectionError,
  isConnectFailure,
  type QueryFailure,
  type QueryFailureKind,
  setupError,
  sqlState,
} from "./pg-errors.js";
// Versioned schema setup
export { LOG_SCHEMA_VERSION, logTables } from "./schema.js";
export { quoteIdentifier, SQL_IDENTIFIER_PATTERN } from "./sql-identifier.js";
export { runVersionedSetup, type VersionedComponent, versionTable } from "./versioned-setup.js";
