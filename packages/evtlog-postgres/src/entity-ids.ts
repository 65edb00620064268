import { InvalidArgumentError, ReadError, validateTypeAndId } from "@eventsourced/core";
import type { PgQueryPoolLike } from "./pg-pool-like.js";

/** Options of {@link PostgresEvtLog.entityIds}. */
export interface EntityIdsOptions {
  /** Only ids after this one (exclusive), for paging: pass the last id of the previous page. */
  readonly after?: string | undefined;
  /** At most this many ids; default 1,000. */
  readonly limit?: number | undefined;
}

/**
 * From the heads table, which has one row per entity that ever had an event (a deleted entity's row
 * remains, so its id is listed too): a range scan of its primary key `(type, id)`. The limit is a subquery
 * so that the planner takes that scan even without statistics (see `pageOfEvts`).
 */
export function entityIdsStatement(streams: string): string {
  return `SELECT id FROM ${streams} WHERE type = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT (SELECT $3::int8)`;
}

/** Ids of the entities of `type`, in the database's order of text (the primary key's). */
export async function readEntityIds(
  pool: PgQueryPoolLike,
  sql: string,
  type: string,
  options: EntityIdsOptions,
): Promise<string[]> {
  validateTypeAndId(type, "-");
  const limit = options.limit ?? 1_000;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`invalid limit ${limit}: an integer >= 1`);
  }
  if (options.after !== undefined) validateTypeAndId(type, options.after);
  try {
    const res = await pool.query(sql, [type, options.after ?? null, limit]);
    return res.rows.map((row) => (row as { id: string }).id);
  } catch (err) {
    throw new ReadError(`cannot list the entities of type ${type}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
