// The lease store contract suite, as a vitest suite ("@eventsourced/leases/testing/vitest"; needs the
// optional peer `vitest`). Every store runs it unchanged.

export { describeLeaseStoreContract, EDGE_LEASE_KEYS, HOSTILE_LEASE_KEYS } from "./lease-store-contract.js";
