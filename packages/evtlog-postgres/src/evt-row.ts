import type { EvtMetadata, EvtRecord, TypedEvtRecord } from "@eventsourced/core";
import type { PgPoolLike } from "./pg-pool-like.js";

/**
 * A row of a read statement as `rowMode: "array"` returns it: the values of its columns in select-list
 * order. The event's columns ({@link EVT_COLUMN_NAMES}) sit together, from an index each reader knows; as
 * `pg` parses them: `seq_no` a string (int8), `recorded_at` milliseconds since the epoch (see
 * {@link EVT_COLUMNS}), `content_type` and `metadata` (parsed JSON) or null, `bytes` a Buffer; a reader
 * with other parsers may hand over text, which the record builders accept too.
 */
export type EvtCells = readonly unknown[];

/** Offsets of the event's columns from the first of them, in {@link EVT_COLUMN_NAMES} order. */
const SEQ_NO = 0;
const RECORDED_AT = 1;
const CONTENT_TYPE = 2;
const METADATA = 3;
const BYTES = 4;

/**
 * Runs a read statement and returns its rows as {@link EvtCells}. Array rows spare `pg` building an object
 * with a property per column for every event, then copying it into the record: in a replay of 200,000
 * events through `evtsByType` about 0.4 us of the client's 4.2 us per event (ADR 0123). A pg-compatible
 * pool that ignores `rowMode` returns objects; their values are taken in select-list order.
 */
export async function queryCells(pool: PgPoolLike, text: string, values: unknown[]): Promise<EvtCells[]> {
  const { rows } = await pool.query({ text, values, rowMode: "array" });
  if (rows.length === 0 || Array.isArray(rows[0])) return rows as EvtCells[];
  return rows.map((row) => Object.values(row as object));
}

/** The names of the columns every read returns, in this order (see {@link EVT_COLUMNS}). */
export const EVT_COLUMN_NAMES = "seq_no, recorded_at, content_type, metadata, bytes";

/**
 * `recorded_at` as milliseconds since the epoch (a `float8`), the way `pg`'s own timestamp parser would
 * have cut it: microseconds truncated to the millisecond below. Parsing the timestamp's text into a `Date`
 * cost about 15 % of the client's time in a bulk recovery (`postgres-date`, with a regular expression and
 * a `Date.UTC` per event); a float is parsed with `parseFloat`. Rounding to whole microseconds first keeps
 * the result exact where `extract` returns a double (PostgreSQL 13) as well as a numeric (14 and later).
 */
const RECORDED_AT_MS =
  "floor(round(extract(epoch FROM recorded_at) * 1000000) / 1000)::float8 AS recorded_at";

/**
 * The select list of every read: the columns of {@link EVT_COLUMN_NAMES}, `recorded_at` in milliseconds.
 * A paged read selects it in an outer query over its page (see {@link pageOfEvts}), never beside its own
 * `ORDER BY ... LIMIT`.
 */
export const EVT_COLUMNS = `seq_no, ${RECORDED_AT_MS}, content_type, metadata, bytes`;

/**
 * A paged read: `page` selects `position`, `leading` and {@link EVT_COLUMN_NAMES} (and whatever `trailing`
 * needs) with its own `ORDER BY ... LIMIT (SELECT $n)`; the outer query converts `recorded_at` for the
 * page's rows only.
 *
 * Both guard against one plan. On a table without statistics yet (a new log before autovacuum's first
 * `ANALYZE`, or one that grew by a bulk load since) PostgreSQL estimates a few dozen matching rows, and
 * with a `LIMIT` it can see it prefers a bitmap scan of every row after the cursor and a top-N sort: every
 * page then read the whole rest of the type (or of the entity), and evaluated the select list for each of
 * those rows. A limit the planner cannot fold (`(SELECT $n)`) counts as a small fraction of the rows, so it
 * takes the ordered index scan that stops after the page, which is the right plan with statistics too.
 * Measured on a fresh table of 100,000 events of one type: 20.7 ms per 1,000-event page with the plain
 * limit, 0.29 ms with the subquery (ADR 0122).
 */
export function pageOfEvts(
  page: string,
  leading: string,
  trailing: string,
  order: string,
  withClause = "",
): string {
  const lead = leading === "" ? "" : `${leading}, `;
  const trail = trailing === "" ? "" : `,\n      ${trailing}`;
  const prefix = withClause === "" ? "" : `${withClause}\n    `;
  return `${prefix}SELECT position, ${lead}${EVT_COLUMNS}${trail}
    FROM (${page}) page
    ORDER BY ${order}`;
}

/** Matches a number as PostgreSQL writes a `float8` (a client with its own float parser may hand us text). */
const FLOAT_TEXT = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

function dateOf(value: unknown): Date {
  if (typeof value === "number") return new Date(value);
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(FLOAT_TEXT.test(text) ? Number(text) : text);
}

function bytesOf(value: unknown): Uint8Array {
  return typeof value === "string" ? Buffer.from(value.replace(/^\\x/, ""), "hex") : (value as Uint8Array);
}

/** Adds the optional fields the event's columns from `k` have (absent ones stay absent). */
function addOptional(
  record: { contentType?: string | undefined; metadata?: EvtMetadata | undefined },
  cells: EvtCells,
  k: number,
): void {
  const contentType = cells[k + CONTENT_TYPE];
  if (contentType !== null) record.contentType = contentType as string;
  const metadata = cells[k + METADATA];
  if (metadata !== null) {
    record.metadata =
      typeof metadata === "string" ? (JSON.parse(metadata) as EvtMetadata) : (metadata as EvtMetadata);
  }
}

/** The seqNo of the event whose columns start at index `k` of `cells`. */
export function seqNoAt(cells: EvtCells, k: number): number {
  return Number(cells[k + SEQ_NO]);
}

/** The {@link EvtRecord} of the event whose columns start at index `k` of `cells`, without absent optional fields. */
export function toEvtRecord(cells: EvtCells, k: number): EvtRecord {
  const record: { -readonly [K in keyof EvtRecord]: EvtRecord[K] } = {
    seqNo: seqNoAt(cells, k),
    recordedAt: dateOf(cells[k + RECORDED_AT]),
    bytes: bytesOf(cells[k + BYTES]),
  };
  addOptional(record, cells, k);
  return record;
}

/**
 * The {@link TypedEvtRecord} of a by-type row, in one object (no spread of an intermediate record: this runs
 * once per event of every projection and replay), otherwise like {@link toEvtRecord}.
 */
export function toTypedEvtRecord(
  cells: EvtCells,
  k: number,
  type: string,
  id: string,
  position: number,
): TypedEvtRecord {
  const record: { -readonly [K in keyof TypedEvtRecord]: TypedEvtRecord[K] } = {
    type,
    id,
    position,
    seqNo: seqNoAt(cells, k),
    recordedAt: dateOf(cells[k + RECORDED_AT]),
    bytes: bytesOf(cells[k + BYTES]),
  };
  addOptional(record, cells, k);
  return record;
}
