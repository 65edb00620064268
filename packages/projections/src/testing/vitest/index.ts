// The ProjectionStore contract suite (needs vitest, an optional peer dependency).

export { describeProjectionStoreContract, type ProjectionStoreFixture } from "./projection-store-contract.js";
