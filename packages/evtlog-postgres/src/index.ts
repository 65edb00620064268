// The event log

// Listing entities (operators)
export type { EntityIdsOptions } from "./entity-ids.js";
// Strict fencing (L2)
export { type FenceableLog, FencedEvtLog } from "./fenced-evt-log.js";
// Monitoring
export type { GroupCommitStats } from "./group-commit.js";
export type { FenceLeaseTable, FencingOptions, PersistFence } from "./persist-fence.js";
export type { PersistHook, WrittenPersist } from "./persist-hook.js";
// The pool interface the log needs (`pg.Pool` satisfies it)
export type {
  PgClientLike,
  PgNotificationLike,
  PgPoolLike,
  PgQueryClientLike,
  PgQueryPoolLike,
  PgResultLike,
} from "./pg-pool-like.js";
export { PostgresEvtLog } from "./postgres-evt-log.js";
export type { PersistOptions, PostgresEvtLogOptions } from "./postgres-evt-log-options.js";

// Naming rules for schema and table names
export { SQL_IDENTIFIER_PATTERN } from "./sql-identifier.js";
