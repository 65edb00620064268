import { type EvtRange, type IdEvtRecord, ReadError, validateEvtRanges } from "@eventsourced/core";
import { EVT_COLUMN_NAMES, EVT_COLUMNS, type EvtCells, queryCells, toEvtRecord } from "./evt-row.js";
import type { PgPoolLike } from "./pg-pool-like.js";
import type { LogTables } from "./schema.js";

/** Columns of a bulk row (see {@link evtsByIdsStatement}): the range's index, `position`, then the event's. */
const RANGE = 0;
const POSITION = 1;
const EVT = 2;

/**
 * Many entities' events in one query: one index range scan per entity on the primary key (a lateral join
 * over the requested ranges), ordered by range then seqNo. Sent unnamed, like `evtsById`, so that it is
 * planned with the real ranges.
 *
 * Parameters: $1 type; per range $2 id, $3 from, $4 to (inclusive). Returns `r`, the range's index.
 */
export function evtsByIdsStatement(t: LogTables): string {
  return `SELECT q.r, e.position, ${EVT_COLUMN_NAMES.split(", ")
    .map((c) => `e.${c}`)
    .join(", ")}
    FROM unnest($2::text[], $3::int8[], $4::int8[]) WITH ORDINALITY AS q(id, from_seq, to_seq, r)
    CROSS JOIN LATERAL (
      SELECT position, ${EVT_COLUMNS} FROM ${t.events} e
      WHERE e.type = $1 AND e.id = q.id AND e.seq_no >= q.from_seq AND e.seq_no <= q.to_seq
      ORDER BY e.seq_no
    ) e
    ORDER BY q.r, e.seq_no`;
}

/**
 * Streams the ranges' events (see `EvtLogBulkReads.evtsByIds`), `pageRows` events per query at most: since
 * every range is bounded, pages are cut from the ranges' sizes (a long range spans several pages, short
 * ones share one), so no query needs a LIMIT across entities. Up to `ahead` pages are read concurrently
 * (on as many pooled connections) while the caller consumes the current one; no connection is held
 * between pages.
 */
export async function* readEvtsByIds(
  pool: PgPoolLike,
  statement: string,
  pageRows: number,
  ahead: number,
  type: string,
  ranges: readonly EvtRange[],
  signal: AbortSignal | undefined,
): AsyncGenerator<IdEvtRecord> {
  validateEvtRanges(type, ranges);
  const pages = cutPages(ranges, pageRows);
  const fetchPage = (page: readonly EvtRange[]): Promise<EvtCells[]> => {
    const rows = queryCells(pool, statement, [
      type,
      page.map((r) => r.id),
      page.map((r) => r.from),
      page.map((r) => r.to),
    ]).catch((err: unknown) => {
      throw new ReadError(
        `cannot read the events of ${page.length} entities of type ${type}: ${(err as Error).message}`,
        { cause: err },
      );
    });
    // A caller that stops early never awaits the prefetched pages; their failure must not go unhandled.
    rows.catch(() => {});
    return rows;
  };
  const inFlight: Promise<EvtCells[]>[] = [];
  let fetched = 0;
  for (let p = 0; p < pages.length; p++) {
    while (fetched < pages.length && fetched < p + ahead) inFlight.push(fetchPage(pages[fetched++]!));
    const rows = await inFlight.shift()!;
    const page = pages[p]!;
    for (const row of rows) {
      if (signal?.aborted) return;
      const record = toEvtRecord(row, EVT) as { -readonly [K in keyof IdEvtRecord]: IdEvtRecord[K] };
      record.id = page[Number(row[RANGE]) - 1]!.id;
      record.position = Number(row[POSITION]);
      yield record;
    }
  }
}

/** Cuts the ranges, in order, into pages of at most `pageRows` seqNos (a long range into several). */
function cutPages(ranges: readonly EvtRange[], pageRows: number): EvtRange[][] {
  const pages: EvtRange[][] = [];
  let page: EvtRange[] = [];
  let room = pageRows;
  for (const range of ranges) {
    let from = range.from;
    while (from <= range.to) {
      const to = Math.min(range.to, from + room - 1);
      page.push({ id: range.id, from, to });
      room -= to - from + 1;
      from = to + 1;
      if (room === 0) {
        pages.push(page);
        page = [];
        room = pageRows;
      }
    }
  }
  if (page.length > 0) pages.push(page);
  return pages;
}
