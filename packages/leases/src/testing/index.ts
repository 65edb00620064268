// The test kit of `@eventsourced/leases` ("./testing"): an in-memory store and checks of ownership logs.
// Needs no test framework; the store contract suite (vitest) is in "@eventsourced/leases/testing/vitest".

export { InMemoryLeaseStore, type InMemoryLeaseStoreOptions } from "./in-memory-lease-store.js";
export {
  leaseLogLine,
  overlappingIntervals,
  parseLeaseLogLine,
  type ValidityInterval,
  validityIntervals,
} from "./validity-intervals.js";
