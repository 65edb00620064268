// The NATS KV snapshot store

export type { NatsServerOptions } from "./connect-nats.js";
export { NatsSnapshotStore, type NatsSnapshotStoreOptions } from "./nats-snapshot-store.js";
// The key and value formats (documented, stable)
export { encodeIdToken, MAX_ENCODED_ID_LENGTH, snapshotKey } from "./snapshot-key.js";
export { SnapshotTooLargeError } from "./snapshot-too-large-error.js";
export { SNAPSHOT_VALUE_OVERHEAD } from "./snapshot-value.js";
