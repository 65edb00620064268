// In-memory adapters: product features for users' tests and embedded use.

// Contract suites every adapter runs unchanged (need vitest).
export {
  type ContractSubject,
  describeEvtLogContract,
  HOSTILE_IDS,
  uniqueTypeName,
} from "./evt-log-contract.js";
// Failure injection and a given/when/then helper for entity definitions (the helper needs vitest).
export { type EvtLogCounts, FaultyEvtLog, type FaultyEvtLogOptions } from "./faulty-evt-log.js";
export { Given, given, type Outcome, Then } from "./given-when-then.js";
export { InMemoryEvtLog } from "./in-memory-evt-log.js";
export { InMemorySnapshotStore } from "./in-memory-snapshot-store.js";
export { describeSnapshotStoreContract } from "./snapshot-store-contract.js";
