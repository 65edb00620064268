import { advisoryLockKey } from "./advisory-lock-key.js";
import { GroupCommitter } from "./group-commit.js";
import type { LogConfig } from "./log-config.js";
import type { PersistHook } from "./persist-hook.js";
import { persistOneStatement } from "./persist-one-statement.js";
import { persistAdvancesStatement, persistSingleEventsStatement } from "./persist-single-events-statement.js";
import { persistStatement } from "./persist-statement.js";
import type { PgPoolLike } from "./pg-pool-like.js";
import type { ArrayStatements } from "./run-batch-statement.js";
import { LOG_SCHEMA_VERSION, type LogTables } from "./schema.js";

/** The group committer of a `PostgresEvtLog`: its statements, lock key and batch bounds for the log's tables. */
export function logCommitter(fields: {
  readonly pool: PgPoolLike;
  readonly config: LogConfig;
  readonly maxBatchSize: number;
  readonly inTransaction: PersistHook | undefined;
  /** The lease table of strict fencing (its quoted name), if the log fences. */
  readonly fencing: string | undefined;
  readonly onCommitted: (types: ReadonlySet<string>) => void;
}): GroupCommitter {
  const { pool, config, maxBatchSize, inTransaction, fencing, onCommitted } = fields;
  return new GroupCommitter({
    pool,
    statements: {
      ...arrayStatements(config.tables, undefined),
      one: persistOneStatement(config.tables),
      oneName: `eventsourced_persist_one_${advisoryLockKey(`v${LOG_SCHEMA_VERSION}:${config.tables.events}`)}`,
      fenced: fencing === undefined ? undefined : arrayStatements(config.tables, fencing),
    },
    lockKey: advisoryLockKey(`eventsourced:log:${config.tables.schemaName}.${config.tables.tableName}`),
    maxBatchSize,
    maxBatchEvents: Math.max(10_000, maxBatchSize),
    // With one connection, the committer must hand it back after each batch so readers get a turn.
    holdConnection: config.poolSize > 1,
    // A second batch in flight needs a connection of its own (the pool keeps the listener's and one for
    // readers). Not with an inline-projection hook: two hooks' transactions at once could deadlock on the
    // rows they update, which one lane at a time in a process rules out (ADR 0116).
    lanes: inTransaction === undefined && config.poolSize >= 5 ? 2 : 1,
    target: config.target,
    queryTimeoutMs: config.queryTimeoutMs,
    logger: config.logger,
    onCommitted,
    inTransaction,
  });
}

/**
 * The array statements for `tables`, fenced by `leaseTable` if given, with prepared names unique per table,
 * schema version and lease table.
 */
function arrayStatements(tables: LogTables, leaseTable: string | undefined): ArrayStatements {
  const suffix = advisoryLockKey(
    leaseTable === undefined
      ? `v${LOG_SCHEMA_VERSION}:${tables.events}`
      : `v${LOG_SCHEMA_VERSION}:${tables.events}:fenced:${leaseTable}`,
  );
  return {
    batch: persistStatement(tables, leaseTable),
    batchName: `eventsourced_persist_${suffix}`,
    singles: persistSingleEventsStatement(tables, leaseTable),
    singlesName: `eventsourced_persist_singles_${suffix}`,
    advances: persistAdvancesStatement(tables, leaseTable),
    advancesName: `eventsourced_persist_advances_${suffix}`,
  };
}
