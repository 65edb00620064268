// The test kit: in-memory adapters, failure injection and a given/when/then helper. Needs no test
// framework; the adapter contract suites (vitest) are in "@eventsourced/core/testing/vitest".

export { type EvtLogCounts, FaultyEvtLog, type FaultyEvtLogOptions } from "./faulty-evt-log.js";
export { Given, type GivenOptions, given, type Outcome, Then } from "./given-when-then.js";
export { InMemoryEvtLog } from "./in-memory-evt-log.js";
export { InMemorySnapshotStore, type InMemorySnapshotStoreOptions } from "./in-memory-snapshot-store.js";
export { HOSTILE_IDS, uniqueTypeName } from "./test-ids.js";
