// Test doubles for projections; no test framework needed. The store contract suite (vitest) is in
// "@eventsourced/projections/testing/vitest".

export { InMemoryLeaseStore } from "./in-memory-lease-store.js";
export { InMemoryProjectionStore } from "./in-memory-projection-store.js";
