import { ReadError, type TypeHead, validateTypeAndId } from "@eventsourced/core";
import type { PgPoolLike } from "./pg-pool-like.js";

/** `PostgresEvtLog.lastSeqNo`: the entity's head row (0 without one). */
export async function readLastSeqNo(
  pool: PgPoolLike,
  sql: string,
  type: string,
  id: string,
): Promise<number> {
  validateTypeAndId(type, id);
  try {
    const res = await pool.query(sql, [type, id]);
    const row = res.rows[0] as { last_seq_no: string | number } | undefined;
    return row === undefined ? 0 : Number(row.last_seq_no);
  } catch (err) {
    throw new ReadError(
      `cannot read the last seqNo of ${type}/${JSON.stringify(id)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** `PostgresEvtLog.headOfType`: the position and time of the type's last event. */
export async function readHeadOfType(
  pool: PgPoolLike,
  sql: string,
  type: string,
): Promise<TypeHead | undefined> {
  validateTypeAndId(type, "-");
  try {
    const res = await pool.query(sql, [type]);
    const row = res.rows[0] as { position: string | number; recorded_at: Date } | undefined;
    return row === undefined ? undefined : { position: Number(row.position), recordedAt: row.recorded_at };
  } catch (err) {
    throw new ReadError(`cannot read the last event of type ${type}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
