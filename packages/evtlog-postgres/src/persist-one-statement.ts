import type { BatchedPersist } from "./persist-statement.js";
import type { LogTables } from "./schema.js";

/**
 * The batch statement specialised for the most common batch: one persist of one event (an entity writing
 * alone, one event per command). It does the same as `persistStatement` (advisory lock first, claim or advance the head, insert only when that succeeded, release the lock) with
 * scalar parameters only, so its generic
 * plan is as good as a custom one: prepared once per connection, it is then only bound and executed.
 * With arrays, PostgreSQL keeps re-planning every execution because a generic plan cannot know their length.
 *
 * Parameters: $1 lock key, $2 type, $3 id, $4 expected last seqNo, $5 content type, $6 metadata, $7 bytes.
 * Not for fenced persists (see `persistSingleEventsStatement`). Returns `position`: the event's position when written, null on a seqNo conflict. The
 * lock is released on the row computed from `appended` (a materialized CTE), so after the insert.
 */
export function persistOneStatement(t: LogTables): string {
  return `WITH lk AS MATERIALIZED (SELECT pg_advisory_lock($1::bigint)),
created AS (
  INSERT INTO ${t.streams} AS s (type, id, last_seq_no)
  SELECT $2::text, $3::text, 1 WHERE $4::int8 = 0 AND EXISTS (SELECT FROM lk)
  ON CONFLICT (type, id) DO NOTHING
  RETURNING 1
),
advanced AS (
  UPDATE ${t.streams} AS s SET last_seq_no = $4::int8 + 1
  WHERE $4::int8 > 0 AND s.type = $2::text AND s.id = $3::text AND s.last_seq_no = $4::int8
    AND EXISTS (SELECT FROM lk)
  RETURNING 1
),
won AS (SELECT 1 FROM created UNION ALL SELECT 1 FROM advanced),
appended AS (
  INSERT INTO ${t.events} (type, id, seq_no, content_type, metadata, bytes)
  SELECT $2::text, $3::text, $4::int8 + 1, $5::text, $6::jsonb, $7::bytea FROM won
  RETURNING position
),
res AS MATERIALIZED (SELECT (SELECT position FROM appended) AS position)
SELECT position, pg_advisory_unlock($1::bigint) AS unlocked FROM res`;
}

/** The parameters of {@link persistOneStatement} for a persist of exactly one event. */
export function persistOneParams(p: BatchedPersist, lockKey: string): unknown[] {
  const evt = p.evts[0]!;
  const bytes = Buffer.isBuffer(evt.bytes)
    ? evt.bytes
    : Buffer.from(evt.bytes.buffer, evt.bytes.byteOffset, evt.bytes.byteLength);
  return [
    lockKey,
    p.type,
    p.id,
    p.expected,
    evt.contentType ?? null,
    evt.metadata === undefined ? null : JSON.stringify(evt.metadata),
    bytes,
  ];
}
