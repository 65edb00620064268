import type { NewEvt } from "@eventsourced/core";
import { fencedOut, fenceParams, liveFencesCte, type PersistFence } from "./persist-fence.js";
import type { BatchResult } from "./run-batch-statement.js";
import type { LogTables } from "./schema.js";

/**
 * The one statement that writes a whole batch of persists (one autocommit statement = one round trip and
 * one transaction). Each persist succeeds or conflicts on its own:
 *
 * - `lk` takes the log's advisory lock before any row is touched (the `EXISTS (SELECT FROM lk)` gates are
 *   one-time filters). The lock is session-level and the final row releases it, so it is held while the batch
 *   takes its transaction id and its positions and released before the commit: batches of other processes
 *   write while this one waits for its WAL flush, and their commits can share that flush. Because every
 *   writer takes its transaction id and positions under the lock, transaction ids follow positions; see
 *   `evts-by-type.ts` for why that makes by-type reads gap-free (ADR 0108). Taking the lock first also means
 *   batches from different processes never deadlock on each other's stream rows.
 * - `created` claims brand-new entities (expected 0) with `ON CONFLICT DO NOTHING`; `advanced` moves the
 *   head of existing ones with `last_seq_no = expected`, which under READ COMMITTED re-checks the newest row
 *   version after waiting for its lock (held by an earlier batch until it commits). A persist whose entity
 *   comes back from neither lost the race: its events are not inserted and it gets a `SeqNoConflictError`.
 *   No unique violation is ever raised, so one persist's conflict cannot abort the statement for the others.
 * - `appended` inserts the events of the winners only, in input order, so positions follow seqNos. Each
 *   row's `xid` is its transaction's id (the column's default, `pg_current_xact_id()`).
 * - The final row returns the winners (`won`, ascending) and the position of the last event written
 *   (`last`), and releases the lock once all of that was computed.
 * - Each winner's last position is computed by {@link batchResultOf}, not joined back: under the log lock
 *   nobody else draws from the identity sequence, so the positions of a batch are the gap-free range ending
 *   at `last`, drawn in the order inserted (winner by winner, ascending, each one's events together).
 *   `unusable` checks that (`last - first + 1 = count`) whenever it matters (more than one winner); if not
 *   (someone drew from the sequence without the lock), it fails the statement, so nothing is written and
 *   the committer writes the persists one by one, where `last` alone is the answer. Returning only the
 *   position from `appended` and not joining back saves about a tenth of the statement (ADR 0107).
 *
 * A statement that fails after `lk` leaves the session lock held: the committer then releases it on the
 * same connection or discards the connection (see `group-commit.ts`). NOTIFY is not sent here: inside the
 * transaction it would take PostgreSQL's database-wide notify lock until the commit ends and serialise
 * commits again (ADR 0110); `commit-notifier.ts` sends it after the commit.
 *
 * The batch never holds two persists for the same entity (the committer defers the second to the next
 * batch).
 *
 * Parameters: $1 lock key; per persist $2 index, $3 type, $4 id, $5 expected last seqNo, $6 event count;
 * per event $7 persist index, $8 seqNo, $9 content type, $10 metadata, $12 start and $13 length of its bytes
 * in $11, the bytes of all events concatenated. One binary blob instead of a `bytea[]`
 * spares the hex encoding on the client and the array parsing on the server (`pg` sends a top-level Buffer
 * parameter in binary).
 *
 * With `leaseTable` (strict fencing, ADR 0132): also $14 each persist's fence ordinal (null: none) and
 * $15-$17 the batch's distinct fences (see `liveFencesCte`). `live` runs under the lock and before the
 * writes; a persist whose fence is not live is left out of `input` (nothing of it is written; it is neither
 * a winner nor a conflict) and the result row also returns the `live` fences. The lease rows stay locked
 * `FOR SHARE` until the statement's transaction ends, so no takeover commits in between.
 */
export function persistStatement(t: LogTables, leaseTable?: string): string {
  const input =
    leaseTable === undefined
      ? `input AS MATERIALIZED (
  SELECT * FROM unnest($2::int4[], $3::text[], $4::text[], $5::int8[], $6::int4[]) AS t(p, type, id, expected, n)
)`
      : `${liveFencesCte(leaseTable, 15)},
input AS MATERIALIZED (
  SELECT p, type, id, expected, n
  FROM unnest($2::int4[], $3::text[], $4::text[], $5::int8[], $6::int4[], $14::int4[]) AS t(p, type, id, expected, n, fk)
  WHERE fk IS NULL OR fk IN (SELECT k FROM live)
)`;
  return `WITH lk AS MATERIALIZED (SELECT pg_advisory_lock($1::bigint)),
${input},
created AS (
  INSERT INTO ${t.streams} AS s (type, id, last_seq_no)
  SELECT i.type, i.id, i.n FROM input i WHERE i.expected = 0 AND EXISTS (SELECT FROM lk)
  ON CONFLICT (type, id) DO NOTHING
  RETURNING s.type, s.id
),
advanced AS (
  UPDATE ${t.streams} AS s SET last_seq_no = i.expected + i.n
  FROM input i
  WHERE i.expected > 0 AND s.type = i.type AND s.id = i.id AND s.last_seq_no = i.expected
    AND EXISTS (SELECT FROM lk)
  RETURNING i.p, i.type, i.id
),
won AS (
  SELECT i.p, i.type, i.id FROM input i JOIN created c ON c.type = i.type AND c.id = i.id
  UNION ALL
  SELECT p, type, id FROM advanced
),
appended AS (
  INSERT INTO ${t.events} (type, id, seq_no, content_type, metadata, bytes)
  SELECT w.type, w.id, e.seq_no, e.content_type, e.metadata, substring($11::bytea FROM e.start FOR e.len)
  FROM unnest($7::int4[], $8::int8[], $9::text[], $10::jsonb[], $12::int4[], $13::int4[])
    WITH ORDINALITY AS e(p, seq_no, content_type, metadata, start, len, ord)
  JOIN won w ON w.p = e.p
  ORDER BY e.ord
  RETURNING position
),
${batchResult(leaseTable !== undefined)}`;
}

/**
 * The end of both batch statements (this one and `persist-single-events-statement.ts`), after their `won`
 * (index `p` of each winner) and `appended` (`position` of each event inserted) CTEs: the result row, its
 * gap-free check and the release of the log lock ($1). A fenced statement also returns the ordinals of the
 * fences found `live`.
 */
export function batchResult(fenced: boolean): string {
  return `written AS (
  SELECT (SELECT coalesce(array_agg(w.p ORDER BY w.p), '{}') FROM won w) AS won,
    min(a.position) AS first, max(a.position) AS last, count(*) AS n
  FROM appended a
)
SELECT won, last,
  CASE WHEN cardinality(won) > 1 AND last - first + 1 <> n
    THEN ('batch positions ' || first || '..' || last || ' are not gap-free for ' || n || ' events')::int
  END AS unusable,${fenced ? "\n  (SELECT coalesce(array_agg(k), '{}') FROM live) AS live," : ""}
  pg_advisory_unlock($1::bigint) AS unlocked
FROM written`;
}

/** The row {@link persistStatement} returns. */
export interface PersistStatementRow {
  /** Indexes of the persists written, ascending. */
  readonly won: readonly number[];
  /** The position of the last event written (null when none was). */
  readonly last: string | number | null;
  /** A fenced statement's live fences (see `liveFencesCte`). */
  readonly live?: readonly (number | string)[];
}

/**
 * The winners with the position of each one's last event. The statement inserted the winners' events in
 * ascending index order, each winner's together, at consecutive positions ending at `row.last` (checked by
 * the statement whenever there are several winners), so winner `k`'s last event is at `last` minus the
 * events of the winners after it.
 */
export function batchResultOf(
  row: PersistStatementRow,
  batch: readonly (BatchedPersist & { readonly fence?: PersistFence | undefined })[],
): BatchResult {
  const won = [...row.won];
  const positions: number[] = new Array(won.length);
  let position = Number(row.last);
  for (let i = won.length - 1; i >= 0; i--) {
    positions[i] = position;
    position -= batch[won[i]!]!.evts.length;
  }
  return row.live === undefined
    ? { won, positions }
    : { won, positions, fencedOut: fencedOut(batch, row.live) };
}

/** What a batch needs to know about each of its persists. */
export interface BatchedPersist {
  readonly type: string;
  readonly id: string;
  readonly expected: number;
  readonly evts: readonly NewEvt[];
  /** Strict fencing: written only under this live lease tenure (fenced statements only). */
  readonly fence?: PersistFence | undefined;
}

/**
 * The parameters of {@link persistStatement} for `batch` (persist `i` is reported back as index `i`); with
 * `fenced`, those of the fenced statement.
 */
export function persistParams(batch: readonly BatchedPersist[], lockKey: string, fenced: boolean): unknown[] {
  const indexes: number[] = [];
  const types: string[] = [];
  const ids: string[] = [];
  const expected: number[] = [];
  const counts: number[] = [];
  const evtIndexes: number[] = [];
  const seqNos: number[] = [];
  const contentTypes: (string | null)[] = [];
  const metadata: (string | null)[] = [];
  const chunks: Uint8Array[] = [];
  const starts: number[] = [];
  const lengths: number[] = [];
  let offset = 1; // substring() counts from 1
  batch.forEach((p, index) => {
    indexes.push(index);
    types.push(p.type);
    ids.push(p.id);
    expected.push(p.expected);
    counts.push(p.evts.length);
    p.evts.forEach((evt, i) => {
      evtIndexes.push(index);
      seqNos.push(p.expected + i + 1);
      contentTypes.push(evt.contentType ?? null);
      metadata.push(evt.metadata === undefined ? null : JSON.stringify(evt.metadata));
      chunks.push(evt.bytes);
      starts.push(offset);
      lengths.push(evt.bytes.byteLength);
      offset += evt.bytes.byteLength;
    });
  });
  return [
    lockKey,
    indexes,
    types,
    ids,
    expected,
    counts,
    evtIndexes,
    seqNos,
    contentTypes,
    metadata,
    chunks.length === 1 ? toBuffer(chunks[0]!) : Buffer.concat(chunks),
    starts,
    lengths,
    ...(fenced ? fencedParamsOf(batch) : []),
  ];
}

/** The fenced statements' extra parameters: each persist's fence ordinal, then the fences' keys, owners, epochs. */
export function fencedParamsOf(batch: readonly BatchedPersist[]): unknown[] {
  const { ordinals, keys, owners, epochs } = fenceParams(batch);
  return [ordinals, keys, owners, epochs];
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
