// Test doubles for projections; no test framework needed. The store contract suite (vitest) is in
// "@eventsourced/projections/testing/vitest".

export { InMemoryLeases } from "./in-memory-leases.js";
export { InMemoryProjectionStore } from "./in-memory-projection-store.js";
