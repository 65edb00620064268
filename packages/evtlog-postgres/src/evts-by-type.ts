import {
  type EvtsByTypeOptions,
  InvalidArgumentError,
  ReadError,
  type TypedEvtRecord,
  validateTypeAndId,
} from "@eventsourced/core";
import type { AppendSignal } from "./append-signal.js";
import { EVT_COLUMNS, type EvtRow, toTypedEvtRecord } from "./evt-row.js";
import type { NotificationListener } from "./notification-listener.js";
import type { PgPoolLike } from "./pg-pool-like.js";
import type { LogTables } from "./schema.js";

/**
 * Reads by type in position order, `position > after`, one bounded page at a time.
 *
 * Why this never skips an event: positions come from an identity column, and a plain bigserial is taken
 * at INSERT time but becomes visible at COMMIT, so a reader could see position 10 while 9 is still
 * uncommitted and later resume after 10, losing 9. Here every writing statement first takes the log's
 * transaction-scoped advisory lock (see `persist-statement.ts`) and inserts only while holding it; the
 * lock is released after the commit is visible. So positions are handed out in commit order: when a row
 * at position p is visible, every row with a lower position that will ever commit is visible too, and
 * resuming after the last position seen is safe. (A `WHERE xid < pg_snapshot_xmin(...)` filter alone is
 * not enough when readers resume by position, because a transaction with a higher position can commit
 * before one with a lower position but higher xid.) The cost is that writers to one log serialise for the
 * duration of one statement, which group commit amortises over a whole batch. (This relies on the identity
 * sequence's default `CACHE 1`: per-backend caches would hand out positions out of lock order.)
 */
export function evtsByTypeStatement(t: LogTables): string {
  return `SELECT position, id, ${EVT_COLUMNS} FROM ${t.events}
    WHERE type = $1 AND position > $2
    ORDER BY position LIMIT $3`;
}

interface TypedRow extends EvtRow {
  readonly position: string | number;
  readonly id: string;
}

/** What a by-type reader needs from the log. */
export interface ByTypeContext {
  readonly pool: PgPoolLike;
  readonly statement: string;
  readonly pageSize: number;
  readonly appendSignal: AppendSignal;
  readonly listener: NotificationListener | undefined;
  readonly pollIntervalMs: number;
  /** Aborted when the log closes: live readers then end like on their own signal. */
  readonly closed: AbortSignal;
}

/** Streams every event of `type` after `options.after`, then (when live) tails until aborted. */
export async function* readEvtsByType(
  context: ByTypeContext,
  type: string,
  options: EvtsByTypeOptions,
): AsyncGenerator<TypedEvtRecord> {
  // Checked here, when iteration starts, like every argument of every read: before any query.
  validateTypeAndId(type, "-");
  const { live = false, signal } = options;
  let after = options.after ?? 0;
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new InvalidArgumentError(`invalid position ${after}: must be an integer >= 0`);
  }
  // Listen before the first query, so nothing committed between that query and the first wait is missed.
  if (live) await context.listener?.ensure();
  const stopped = () => signal?.aborted === true || context.closed.aborted;
  while (!stopped()) {
    const versionBefore = context.appendSignal.version;
    let rows: TypedRow[];
    try {
      const res = await context.pool.query(context.statement, [type, after, context.pageSize]);
      rows = res.rows as TypedRow[];
    } catch (err) {
      if (context.closed.aborted) return;
      throw new ReadError(`cannot read events of type ${type}: ${(err as Error).message}`, { cause: err });
    }
    for (const row of rows) {
      if (stopped()) return;
      const position = Number(row.position);
      after = position;
      yield toTypedEvtRecord(row, type, row.id, position);
    }
    if (rows.length === context.pageSize) continue;
    if (!live) return;
    if (context.appendSignal.version !== versionBefore) continue;
    await context.listener?.ensure();
    await context.appendSignal.wait(type, context.pollIntervalMs, [signal, context.closed]);
  }
}
