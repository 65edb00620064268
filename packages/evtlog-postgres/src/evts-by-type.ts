import {
  type EvtsByTypeOptions,
  InvalidArgumentError,
  type Logger,
  ReadError,
  type TypedEvtRecord,
  validateTypeAndId,
} from "@eventsourced/core";
import type { AppendSignal } from "./append-signal.js";
import { EVT_COLUMN_NAMES, type EvtCells, pageOfEvts, queryCells, toTypedEvtRecord } from "./evt-row.js";
import { HeldBackWarning } from "./held-back-warning.js";
import type { NotificationListener } from "./notification-listener.js";
import type { PgPoolLike } from "./pg-pool-like.js";
import type { LogTables } from "./schema.js";

/**
 * Reads by type in position order, `position > after`, one bounded page at a time.
 *
 * Why this never skips an event (ADR 0108): positions come from an identity column, taken at INSERT time
 * but visible at COMMIT, so a reader could see position 10 while 9 is still uncommitted and later resume
 * after 10, losing 9. Every writer of the log takes the log's advisory lock before its first write (which
 * gives its transaction its id) and draws all its positions under it (see `persist-statement.ts`), so for
 * the log's writers transaction ids follow positions. The lock is released before the commit, so commits
 * may still finish out of position order; the reader therefore delivers a row only when its transaction is
 * older than every transaction still running in its snapshot (`xid < pg_snapshot_xmin(...)`): then every
 * writer that drew a lower position has ended, and what it committed is visible. The page stops at the
 * first row that is not settled yet (`unsettled`) and the reader reads it again shortly after. Rows written
 * before the `xid` column existed have none and are settled. The cost: a long transaction anywhere on the
 * server that has an id (one that wrote) holds back by-type reads, not writes, until it ends.
 * (This relies on the identity sequence's default `CACHE 1`: per-backend caches would hand out positions out
 * of lock order.)
 *
 * The server ends the page there (ADR 0139): it returns the settled prefix of its window and the first
 * unsettled row, the reader's sign that it was held back, never a row behind it. The window (the `LIMIT`ed
 * rows after `$2`) is scanned first for `xid` alone to find that row's position, the cut; the page is then
 * read up to the cut, in the same statement and so the same snapshot and `xmin`. Nothing past the window is
 * scanned. Before, the reader received, parsed and dropped the rows behind the cut, and read them again with
 * its next query: beside 100 writers, 0-106 % more rows than it delivered. The cut's scan costs about
 * 0.2 us of server time per row, so a read-ahead (a reader catching up, see `nextPageOf`) uses
 * {@link evtsByTypeAheadStatement}.
 */
export function evtsByTypeStatement(t: LogTables): string {
  return pageOfEvts(
    `SELECT position, id, ${EVT_COLUMN_NAMES}, xid >= (SELECT xmin FROM horizon) AS unsettled
      FROM ${t.events}
      WHERE type = $1 AND position > $2 AND position <= coalesce((
          SELECT position FROM (
            SELECT position, xid FROM ${t.events}
            WHERE type = $1 AND position > $2
            ORDER BY position LIMIT (SELECT $3::int8)
          ) window_rows
          WHERE xid >= (SELECT xmin FROM horizon)
          ORDER BY position LIMIT 1
        ), ${MAX_POSITION})
      ORDER BY position LIMIT (SELECT $3::int8)`,
    "id",
    "unsettled",
    "position",
    "WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)",
  );
}

/**
 * The page a reader asks for ahead (ADR 0125), while it delivers a full page of settled rows: it is catching
 * up, so the page is most likely settled throughout and the cut of {@link evtsByTypeStatement} would cost a
 * second scan for nothing. It returns the whole window with `unsettled` on each row, and the reader stops at
 * the first unsettled one as it always does (ADR 0108).
 */
export function evtsByTypeAheadStatement(t: LogTables): string {
  return pageOfEvts(
    `SELECT position, id, ${EVT_COLUMN_NAMES}, xid FROM ${t.events}
      WHERE type = $1 AND position > $2
      ORDER BY position LIMIT (SELECT $3::int8)`,
    "id",
    "xid >= (SELECT pg_snapshot_xmin(pg_current_snapshot())) AS unsettled",
    "position",
  );
}

/** Above every position (int8's maximum): no cut. */
const MAX_POSITION = "9223372036854775807";

/** First wait before reading again when a page stopped at an unsettled row; doubles up to the cap. */
const SETTLE_WAIT_MS = 1;
/** Longest wait between two reads of a page held back by an unsettled row. */
const SETTLE_WAIT_MAX_MS = 50;

/** Columns of a by-type row (see {@link evtsByTypeStatement}): the event's from `EVT`, `unsettled` last. */
const POSITION = 0;
const ID = 1;
const EVT = 2;
/** True while an older transaction is still running (null for rows written before `xid` existed). */
const UNSETTLED = 7;

/** One page query in flight, and the append signal's version when it was sent. */
interface PageRead {
  readonly rows: Promise<EvtCells[]>;
  readonly versionBefore: number;
}

/** What a by-type reader needs from the log. */
export interface ByTypeContext {
  readonly pool: PgPoolLike;
  /** {@link evtsByTypeStatement}: every page the reader decides on. */
  readonly statement: string;
  /** {@link evtsByTypeAheadStatement}, for pages read ahead; `statement` when absent. */
  readonly aheadStatement?: string | undefined;
  readonly pageSize: number;
  readonly appendSignal: AppendSignal;
  readonly listener: NotificationListener | undefined;
  readonly pollIntervalMs: number;
  /** Aborted when the log closes: live readers then end like on their own signal. */
  readonly closed: AbortSignal;
  readonly logger: Logger;
  /** How long a reader is held back before it warns (see `HeldBackWarning`); tests shorten it. */
  readonly heldBackWarnMs?: number | undefined;
}

/**
 * Streams every event of `type` after `options.after`, then (when live) tails until aborted. A read that is
 * not live ends once it has delivered every event committed before it started: it waits while a page stops
 * at an unsettled row. While it delivers a full, settled page the next one is already being read (one query
 * ahead, as `evtsById` does): the server reads while the consumer works, about a tenth more events per
 * second in a projection's rebuild.
 */
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
  let settleWait = SETTLE_WAIT_MS;
  const warning = new HeldBackWarning(context.pool, context.logger, type, context.heldBackWarnMs);
  // A page query, with the append signal's version when it was sent: a commit after that wakes a live wait.
  const page = (from: number, statement = context.statement): PageRead => {
    const versionBefore = context.appendSignal.version;
    const rows = queryCells(context.pool, statement, [type, from, context.pageSize]);
    // Awaited (and its failure reported) by the loop; a reader that stops before must not leave it unhandled.
    rows.catch(() => {});
    return { rows, versionBefore };
  };
  // The next page, asked for while the rows of a full, settled page are delivered (see `nextPageOf`).
  let prefetched: PageRead | undefined;
  while (!stopped()) {
    const { rows: reading, versionBefore } = prefetched ?? page(after);
    prefetched = undefined;
    let rows: EvtCells[];
    try {
      rows = await reading;
    } catch (err) {
      if (context.closed.aborted) return;
      throw new ReadError(`cannot read events of type ${type}: ${(err as Error).message}`, { cause: err });
    }
    const next = nextPageOf(rows, context.pageSize);
    if (next !== undefined) prefetched = page(next, context.aheadStatement);
    let heldBack = false;
    for (const row of rows) {
      if (stopped()) return;
      // The last row of a page cut by the server; any row of a page read ahead (ADR 0139).
      if (row[UNSETTLED] === true) {
        heldBack = true;
        break;
      }
      const position = Number(row[POSITION]);
      after = position;
      yield toTypedEvtRecord(row, EVT, type, row[ID] as string, position);
    }
    if (heldBack) {
      // An older transaction is still running: read again soon (a commit of this type wakes us sooner).
      await warning.heldBack();
      await context.appendSignal.wait(type, settleWait, [signal, context.closed]);
      settleWait = Math.min(settleWait * 2, SETTLE_WAIT_MAX_MS);
      continue;
    }
    settleWait = SETTLE_WAIT_MS;
    warning.settled();
    if (rows.length === context.pageSize) continue;
    if (!live) return;
    if (context.appendSignal.version !== versionBefore) continue;
    await context.listener?.ensure();
    await context.appendSignal.wait(type, context.pollIntervalMs, [signal, context.closed]);
  }
}

/**
 * Where the page after `rows` starts, when it can be read at once: `rows` is full and every row of it is
 * settled, so the reader will deliver all of them and continue after the last. Asking for it before the
 * rows are delivered lets the server read the next page while the consumer works on this one: one query
 * ahead, at most one more page in memory. Otherwise (a short page, or one that stops at an unsettled row)
 * undefined: the reader then decides after the page, as before.
 */
function nextPageOf(rows: readonly EvtCells[], pageSize: number): number | undefined {
  if (rows.length !== pageSize) return undefined;
  for (const row of rows) if (row[UNSETTLED] === true) return undefined;
  return Number(rows[rows.length - 1]![POSITION]);
}
