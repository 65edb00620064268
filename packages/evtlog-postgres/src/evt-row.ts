import type { EvtMetadata, EvtRecord } from "@eventsourced/core";

/** A row as the read statements return it (bigints come back as strings from `pg`). */
export interface EvtRow {
  readonly seq_no: string | number;
  readonly recorded_at: Date | string;
  readonly content_type: string | null;
  readonly metadata: EvtMetadata | string | null;
  readonly bytes: Uint8Array | string;
}

/** The columns every read selects, in this order. */
export const EVT_COLUMNS = "seq_no, recorded_at, content_type, metadata, bytes";

/** Maps a row to an {@link EvtRecord}, omitting absent optional fields. */
export function toEvtRecord(row: EvtRow): EvtRecord {
  const record: { -readonly [K in keyof EvtRecord]: EvtRecord[K] } = {
    seqNo: Number(row.seq_no),
    recordedAt: row.recorded_at instanceof Date ? row.recorded_at : new Date(row.recorded_at),
    bytes: typeof row.bytes === "string" ? Buffer.from(row.bytes.replace(/^\\x/, ""), "hex") : row.bytes,
  };
  if (row.content_type !== null) record.contentType = row.content_type;
  if (row.metadata !== null) {
    record.metadata =
      typeof row.metadata === "string" ? (JSON.parse(row.metadata) as EvtMetadata) : row.metadata;
  }
  return record;
}
