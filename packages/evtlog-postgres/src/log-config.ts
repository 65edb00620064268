import { InvalidArgumentError, type Logger } from "@eventsourced/core";
import { advisoryLockKey } from "./advisory-lock-key.js";
import { evtsByIdStatement } from "./evts-by-id.js";
import { evtsByIdsStatement } from "./evts-by-ids.js";
import { evtsByTypeAheadStatement, evtsByTypeStatement } from "./evts-by-type.js";
import type { PostgresEvtLogOptions } from "./postgres-evt-log-options.js";
import type { LogTables } from "./schema.js";

/** What a `PostgresEvtLog` is configured with once its options are resolved: tables, sizes and its SQL. */
export interface LogConfig {
  readonly tables: LogTables;
  readonly target: string;
  /** Connections the pool can open: `maxConnections`, for a pool passed in as for one the log creates. */
  readonly poolSize: number;
  /** LISTEN for live readers: needs a connection of its own, so only when the pool has at least 3. */
  readonly listen: boolean;
  readonly pageSize: number;
  readonly pollIntervalMs: number;
  /** How long `close()` waits for the server before it cuts the connections. */
  readonly closeTimeoutMs: number;
  /** How long a statement of the log may go unanswered before it fails and its connection is destroyed. */
  readonly queryTimeoutMs: number;
  readonly logger: Logger;
  readonly lastSeqNoSql: string;
  readonly byIdSql: string;
  readonly byIdsSql: string;
  readonly byTypeSql: string;
  readonly byTypeAheadSql: string;
  readonly headSql: string;
}

/** `value` when it is a positive integer, `fallback` when undefined; else `InvalidArgumentError`. */
export function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`invalid ${name} ${value}: must be a positive integer`);
  }
  if (name.endsWith("Ms") && value > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `invalid ${name} ${value}: at most ${MAX_TIMER_MS} (Node.js timers fire at once beyond it)`,
    );
  }
  return value;
}

/** The longest delay a Node.js timer takes (2^31 - 1 ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** The log's config with the statements for its tables; `pollIntervalMs` is checked here. */
export function logConfig(fields: {
  readonly tables: LogTables;
  readonly target: string;
  readonly poolSize: number;
  readonly listen: boolean;
  readonly pageSize: number;
  readonly pollIntervalMs: number | undefined;
  readonly closeTimeoutMs: number | undefined;
  readonly queryTimeoutMs: number | undefined;
  readonly logger: Logger;
}): LogConfig {
  const { tables, target, poolSize, listen, pageSize, logger } = fields;
  return {
    tables,
    target,
    poolSize,
    listen,
    pageSize,
    pollIntervalMs: positiveInteger(fields.pollIntervalMs, listen ? 1000 : 100, "pollIntervalMs"),
    closeTimeoutMs: positiveInteger(fields.closeTimeoutMs, 5_000, "closeTimeoutMs"),
    queryTimeoutMs: positiveInteger(fields.queryTimeoutMs, 30_000, "queryTimeoutMs"),
    logger,
    lastSeqNoSql: `SELECT last_seq_no FROM ${tables.streams} WHERE type = $1 AND id = $2`,
    byIdSql: evtsByIdStatement(tables),
    byIdsSql: evtsByIdsStatement(tables),
    byTypeSql: evtsByTypeStatement(tables),
    byTypeAheadSql: evtsByTypeAheadStatement(tables),
    // Backwards on the (type, position) index: one index entry, whatever the table's size.
    headSql: `SELECT position, recorded_at FROM ${tables.events} WHERE type = $1 ORDER BY position DESC LIMIT 1`,
  };
}

/** The NOTIFY channel of the log on `tables`. */
export function notifyChannelOf(tables: LogTables): string {
  return `eventsourced_${advisoryLockKey(`${tables.schemaName}.${tables.tableName}`).replace("-", "m")}`;
}

/** Connections the log's pool can open (`maxConnections`); warns about a pool passed in without its size. */
export function poolSizeOf(options: PostgresEvtLogOptions, logger: Logger): number {
  // A pool passed in without its size is taken to have one connection: assuming more than it has would
  // let the committer hold its only connection while reads wait for one forever.
  const poolSize = positiveInteger(
    options.maxConnections,
    options.pool === undefined ? 10 : 1,
    "maxConnections",
  );
  if (options.pool !== undefined && options.maxConnections === undefined) {
    logger.warn(
      "PostgresEvtLog: a pool was passed without maxConnections; using it as a single connection (no LISTEN, " +
        "the committer releases it after every batch). Pass maxConnections: the pool's max.",
    );
  }
  return poolSize;
}
