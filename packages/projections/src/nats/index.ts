// NATS for projections: checkpoints and dead letters in a KV bucket (at-least-once).

export { NatsKvProjectionStore, type NatsKvProjectionStoreOptions } from "./nats-kv-projection-store.js";
