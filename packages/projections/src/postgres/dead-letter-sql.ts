import type { EvtMetadata } from "@eventsourced/core";
import type { DeadLetter } from "../projection-store.js";
import type { PgQueryable } from "./pg-like.js";
import type { ProjectionTables } from "./projection-tables.js";

// The dead-letter rows of PostgresProjectionStore: reading them back and inserting (or re-counting) one.

interface DeadLetterRow {
  position: string | number;
  type: string;
  id: string;
  seq_no: string | number;
  recorded_at: Date;
  content_type: string | null;
  metadata: EvtMetadata | null;
  bytes: Buffer;
  error: string;
  attempts: number;
  failed_at: Date;
}

/** The dead letters of projection `name`, in position order. */
export async function selectDeadLetters(
  q: PgQueryable,
  t: ProjectionTables,
  name: string,
): Promise<DeadLetter[]> {
  const res = await q.query(
    `SELECT position, type, id, seq_no, recorded_at, content_type, metadata, bytes, error, attempts, failed_at
     FROM ${t.deadLetters} WHERE name = $1 ORDER BY position`,
    [name],
  );
  return (res.rows as DeadLetterRow[]).map((r) => ({
    projection: name,
    position: Number(r.position),
    type: r.type,
    id: r.id,
    seqNo: Number(r.seq_no),
    recordedAt: r.recorded_at,
    contentType: r.content_type ?? undefined,
    metadata: r.metadata ?? undefined,
    bytes: new Uint8Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
    error: r.error,
    attempts: r.attempts,
    failedAt: r.failed_at,
  }));
}

/** Inserts a dead letter on `tx`, or counts one more failure of an existing one. */
export async function insertDeadLetter(tx: PgQueryable, t: ProjectionTables, l: DeadLetter): Promise<void> {
  await tx.query(
    `INSERT INTO ${t.deadLetters} AS d
       (name, position, type, id, seq_no, recorded_at, content_type, metadata, bytes, error, attempts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (name, position) DO UPDATE
       SET error = EXCLUDED.error, attempts = d.attempts + EXCLUDED.attempts, failed_at = now()`,
    [
      l.projection,
      l.position,
      l.type,
      l.id,
      l.seqNo,
      l.recordedAt,
      l.contentType ?? null,
      l.metadata === undefined ? null : JSON.stringify(l.metadata),
      Buffer.from(l.bytes.buffer, l.bytes.byteOffset, l.bytes.byteLength),
      l.error,
      l.attempts,
    ],
  );
}
