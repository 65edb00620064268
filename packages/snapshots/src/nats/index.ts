// The NATS KV snapshot store

// The key and value formats (documented, stable)
// The id encoding is the event log's own (one mapping for subjects and keys).
export { encodeIdToken, MAX_ENCODED_ID_LENGTH } from "@eventsourced/evtlog-nats";
export { NatsSnapshotStore } from "./nats-snapshot-store.js";
export type { NatsSnapshotStoreOptions } from "./nats-snapshot-store-options.js";
export { snapshotKey } from "./snapshot-key.js";
export { SnapshotTooLargeError } from "./snapshot-too-large-error.js";
export { SNAPSHOT_VALUE_OVERHEAD } from "./snapshot-value.js";
