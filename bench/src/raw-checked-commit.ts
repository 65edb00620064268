import type pg from "pg";
import { batchingCommitter } from "./raw-group-commit.js";

/**
 * The raw baseline with the guarantees an event log owes its writers, hand-written in the fewest statements
 * that give them: (1) each persist commits or conflicts on its own (an UPDATE of the entity's head row from
 * its expected seqNo; a stale persist wins nothing and fails nothing else in its batch); (2) positions in
 * commit order, so that a reader following the log never skips an event that commits later (the log's
 * advisory lock held while the statement draws them, released before the commit's flush, as in ADR 0108);
 * (3) the writer learns which persists won and where they landed (the winners' batch indexes and the last
 * position). Head rows exist before the run: creating entities is not measured.
 *
 * It is `eventsourced`'s own statement (`persist-statement.ts`) reduced to these three: no entity creation,
 * metadata, per-event content types, fencing, deletion horizon, multi-event persists or retries. So the plain
 * raw baseline over this one is what the guarantees cost, and this one over ours what the rest costs.
 */

/** Creates the head table `heads` (quoted) with one row at seqNo 0 for each `<prefix>c-<n>`, n < `entities`. */
export async function createHeads(
  client: pg.Client | pg.PoolClient | pg.Pool,
  heads: string,
  entities: number,
  prefixes: readonly string[] = [""],
): Promise<void> {
  await client.query(
    `CREATE TABLE ${heads} (type text NOT NULL, id text NOT NULL, last_seq_no bigint NOT NULL,
       PRIMARY KEY (type, id)) WITH (fillfactor = 50)`,
  );
  await client.query(
    `INSERT INTO ${heads} SELECT 'counter', p || 'c-' || n, 0
       FROM unnest($1::text[]) AS p, generate_series(0, $2::int - 1) AS n`,
    [prefixes, entities],
  );
}

/** Where and what the checked baselines write: the events `table` and its `heads` (both quoted), one event body. */
export interface CheckedTarget {
  readonly client: pg.Client | pg.PoolClient;
  readonly table: string;
  readonly heads: string;
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

/** The one-persist form, for a single sequential writer: one prepared statement per event, autocommit. */
export function rawCheckedInserter(target: CheckedTarget): (id: string, seqNo: number) => Promise<void> {
  const { client, table, heads, contentType, bytes } = target;
  const text = `WITH lk AS MATERIALIZED (SELECT pg_advisory_lock(${LOCK_KEY})),
    advanced AS (UPDATE ${heads} SET last_seq_no = $2
      WHERE type = 'counter' AND id = $1 AND last_seq_no = $2 - 1 AND EXISTS (SELECT FROM lk) RETURNING id),
    appended AS (INSERT INTO ${table} (type, id, seq_no, content_type, bytes)
      SELECT 'counter', id, $2, '${contentType}', $3 FROM advanced RETURNING position),
    res AS MATERIALIZED (SELECT (SELECT position FROM appended) AS position)
    SELECT position, pg_advisory_unlock(${LOCK_KEY}) FROM res`;
  return async (id, seqNo) => {
    const res = await client.query({ name: "raw_checked_insert", text, values: [id, seqNo, bytes] });
    if (res.rows[0]?.position == null) throw new Error(`raw checked insert: ${id} at ${seqNo} conflicted`);
  };
}

/**
 * The group-commit form, like `rawGroupCommitter`: whatever queued up (at most 1000) goes in one statement,
 * which checks each persist against its head row under the lock; a writer whose persist lost fails.
 */
export function rawCheckedCommitter(target: CheckedTarget): (id: string, seqNo: number) => Promise<void> {
  const { client, table, heads, contentType, bytes } = target;
  const sql = `WITH lk AS MATERIALIZED (SELECT pg_advisory_lock(${LOCK_KEY})),
    input AS (SELECT * FROM unnest($1::text[], $2::int8[], $3::bytea[]) WITH ORDINALITY AS i(id, seq_no, bytes, n)),
    advanced AS (UPDATE ${heads} h SET last_seq_no = i.seq_no FROM input i
      WHERE h.type = 'counter' AND h.id = i.id AND h.last_seq_no = i.seq_no - 1 AND EXISTS (SELECT FROM lk)
      RETURNING i.n, i.id, i.seq_no, i.bytes),
    appended AS (INSERT INTO ${table} (type, id, seq_no, content_type, bytes)
      SELECT 'counter', id, seq_no, '${contentType}', bytes FROM advanced ORDER BY n RETURNING position),
    res AS MATERIALIZED (SELECT (SELECT array_agg(n) FROM advanced) AS won,
      (SELECT max(position) FROM appended) AS last)
    SELECT won, last, pg_advisory_unlock(${LOCK_KEY}) FROM res`;
  return batchingCommitter(async (batch) => {
    const values = [batch.map((b) => b.id), batch.map((b) => b.seq), batch.map(() => bytes)];
    // Prepared up to 128 persists, as ours is (a generic plan for larger arrays may loop quadratically).
    const name = batch.length <= 128 ? "raw_checked_batch" : undefined;
    const res = await client.query<{ won: string[] | null }>({ name, text: sql, values });
    const won = new Set((res.rows[0]?.won ?? []).map(Number));
    return batch.map((_, i) => won.has(i + 1));
  });
}

/** The checked baselines' log lock (any constant: every run writes a schema of its own). */
const LOCK_KEY = 7_310_004_417;
