// The NATS KV lease store (`@eventsourced/leases/nats`)

export type { LeaseValue } from "./lease-value.js";
export { NatsLeaseStore, type NatsLeaseStoreOptions } from "./nats-lease-store.js";
