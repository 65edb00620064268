// Leases on the server's clock (`@eventsourced/leases`). Driver-free: the stores live in the
// "./postgres" and "./nats" subpaths, an in-memory store and the contract suite in "./testing".

// Keeping leases
export type { Lease, LeaseEnd, LeaseEndReason, LeaseStatus } from "./lease.js";
export { type AcquireOptions, LeaseKeeper, type LeaseKeeperOptions } from "./lease-keeper.js";
// Errors
export { LeaseKeeperClosedError } from "./lease-keeper-closed-error.js";
export {
  LEASE_KEY_PATTERN,
  MAX_LEASE_KEY_LENGTH,
  MAX_LEASE_OWNER_LENGTH,
  validateLeaseKey,
  validateLeaseOwner,
} from "./lease-key.js";
export type { LeaseLogEntry } from "./lease-log-entry.js";
// The store contract
export type { LeaseGrant, LeaseHolder, LeaseStore } from "./lease-store.js";
export { LeaseStoreError } from "./lease-store-error.js";
