// PostgreSQL for projections: checkpoints, dead letters, exactly-once handlers and inline projections.

export { type ExactlyOnceOptions, exactlyOnce } from "./exactly-once.js";
export {
  type InlineProjection,
  type InlineProjectionOptions,
  type InlineProjectionsHook,
  inlineProjection,
  inlineProjections,
  type WrittenPersistLike,
} from "./inline-projections.js";
export type { PgClientLike, PgPoolLike, PgQueryable, PgResultLike } from "./pg-like.js";
export { PostgresProjectionStore } from "./postgres-projection-store.js";
export type { PostgresProjectionStoreOptions } from "./postgres-projection-store-options.js";
export { PROJECTION_SCHEMA_VERSION } from "./projection-tables.js";
