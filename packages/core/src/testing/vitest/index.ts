// The adapter contract suites, as vitest suites ("@eventsourced/core/testing/vitest"; needs the optional
// peer `vitest`). Every adapter runs them unchanged.

export { HOSTILE_IDS, uniqueTypeName } from "../test-ids.js";
export {
  type ContractSubject,
  describeEvtLogContract,
  type EvtLogContractOptions,
} from "./evt-log-contract.js";
export {
  describeSnapshotStoreContract,
  type SnapshotStoreContractOptions,
  type SnapshotStoreFactoryOptions,
} from "./snapshot-store-contract.js";
