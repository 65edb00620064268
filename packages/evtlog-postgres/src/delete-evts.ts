import {
  type EvtsDeleted,
  InvalidArgumentError,
  PersistError,
  ReadError,
  SeqNoConflictError,
  validateTypeAndId,
} from "@eventsourced/core";
import { classifyQueryFailure } from "./pg-errors.js";
import type { PgQueryPoolLike } from "./pg-pool-like.js";
import type { LogTables } from "./schema.js";

/**
 * Deletes a prefix of an entity's events: one statement that moves the head's `deleted_to` forward (never
 * back, never past `last_seq_no`) and deletes the rows between the old and the new value.
 *
 * - `old` locks the head row first (`FOR UPDATE`, which under READ COMMITTED returns its newest version
 *   once a concurrent deletion committed), so two deletions of one entity queue up and the second deletes
 *   only what the first left. The persist statement takes the log's advisory lock before head rows and
 *   this statement takes no advisory lock, so the two cannot deadlock; a persist to the same entity waits
 *   for the row lock only as long as this statement runs, which the caller bounds by `toSeqNo`.
 * - The head row (`last_seq_no`) is never deleted here, so the entity's seqNos never rewind: a persist
 *   expecting 0 still conflicts, one expecting the last seqNo still succeeds.
 * - Positions of the remaining rows do not change, so by-type readers need no lock.
 * - The bounds are scalar subqueries, not a join with `head`, so that they become index conditions: a
 *   join leaves the primary key scan reading every row of the entity and filtering afterwards.
 *
 * Parameters: $1 type, $2 id, $3 delete up to this seqNo.
 */
export function deleteEvtsStatement(t: LogTables): string {
  return `WITH old AS (
  SELECT deleted_to, last_seq_no FROM ${t.streams} WHERE type = $1 AND id = $2 FOR UPDATE
),
head AS (
  UPDATE ${t.streams} AS s SET deleted_to = GREATEST(old.deleted_to, LEAST($3::bigint, old.last_seq_no))
  FROM old WHERE s.type = $1 AND s.id = $2
  RETURNING s.deleted_to, old.deleted_to AS before
),
gone AS (
  DELETE FROM ${t.events} AS e
  WHERE e.type = $1 AND e.id = $2
    AND e.seq_no > (SELECT before FROM head) AND e.seq_no <= (SELECT deleted_to FROM head)
  RETURNING 1
)
SELECT (SELECT deleted_to FROM head) AS deleted_to, (SELECT count(*) FROM gone) AS removed`;
}

/**
 * Deletes an entity with its head, if its last seqNo is still the expected one. Parameters: $1 type,
 * $2 id, $3 expected last seqNo.
 */
export function resetEntityStatement(t: LogTables): string {
  return `WITH head AS (
  DELETE FROM ${t.streams} WHERE type = $1 AND id = $2 AND last_seq_no = $3 RETURNING 1
),
gone AS (
  DELETE FROM ${t.events} AS e WHERE e.type = $1 AND e.id = $2 AND EXISTS (SELECT FROM head) RETURNING 1
)
SELECT (SELECT count(*) FROM head) AS reset, (SELECT count(*) FROM gone) AS removed`;
}

/** The `EvtLogRetention` half of `PostgresEvtLog`: the statements above and their error mapping. */
export class PostgresEvtDeletion {
  readonly #pool: PgQueryPoolLike;
  readonly #deleteSql: string;
  readonly #resetSql: string;
  readonly #deletedToSql: string;
  readonly #lastSeqNoSql: string;

  constructor(pool: PgQueryPoolLike, tables: LogTables) {
    this.#pool = pool;
    this.#deleteSql = deleteEvtsStatement(tables);
    this.#resetSql = resetEntityStatement(tables);
    this.#deletedToSql = `SELECT deleted_to FROM ${tables.streams} WHERE type = $1 AND id = $2`;
    this.#lastSeqNoSql = `SELECT last_seq_no FROM ${tables.streams} WHERE type = $1 AND id = $2`;
  }

  async deleteEvts(type: string, id: string, toSeqNo: number): Promise<EvtsDeleted> {
    validateTypeAndId(type, id);
    validateSeqNo(toSeqNo, "delete to");
    let row: { deleted_to: string | number | null; removed: string | number } | undefined;
    try {
      row = (await this.#pool.query(this.#deleteSql, [type, id, toSeqNo])).rows[0] as typeof row;
    } catch (err) {
      throw new PersistError(
        `cannot delete events of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        classifyQueryFailure(err).outcomeUnknown,
        { cause: err },
      );
    }
    return { deletedTo: Number(row?.deleted_to ?? 0), removed: Number(row?.removed ?? 0) };
  }

  async deletedTo(type: string, id: string): Promise<number> {
    validateTypeAndId(type, id);
    return this.#readHead(this.#deletedToSql, type, id, "deleted_to");
  }

  async resetEntity(type: string, id: string, expectedLastSeqNo: number): Promise<void> {
    validateTypeAndId(type, id);
    validateSeqNo(expectedLastSeqNo, "expect as the last");
    let reset: number;
    try {
      const row = (await this.#pool.query(this.#resetSql, [type, id, expectedLastSeqNo])).rows[0] as
        | { reset: string | number }
        | undefined;
      reset = Number(row?.reset ?? 0);
    } catch (err) {
      throw new PersistError(
        `cannot reset ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        classifyQueryFailure(err).outcomeUnknown,
        { cause: err },
      );
    }
    if (reset === 1) return;
    const actual = await this.#readHead(this.#lastSeqNoSql, type, id, "last_seq_no");
    if (actual !== expectedLastSeqNo) {
      throw new SeqNoConflictError(type, id, expectedLastSeqNo, { actualLastSeqNo: actual });
    }
  }

  async #readHead(sql: string, type: string, id: string, column: string): Promise<number> {
    try {
      const row = (await this.#pool.query(sql, [type, id])).rows[0] as Record<string, unknown> | undefined;
      return row === undefined ? 0 : Number(row[column]);
    } catch (err) {
      throw new ReadError(
        `cannot read the head of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

function validateSeqNo(seqNo: number, what: string): void {
  if (!Number.isSafeInteger(seqNo) || seqNo < 0) {
    throw new InvalidArgumentError(`invalid seqNo ${seqNo} to ${what}: an integer >= 0`);
  }
}
