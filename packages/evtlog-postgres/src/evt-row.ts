import type { EvtMetadata, EvtRecord, TypedEvtRecord } from "@eventsourced/core";

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

function dateOf(row: EvtRow): Date {
  return row.recorded_at instanceof Date ? row.recorded_at : new Date(row.recorded_at);
}

function bytesOf(row: EvtRow): Uint8Array {
  return typeof row.bytes === "string" ? Buffer.from(row.bytes.replace(/^\\x/, ""), "hex") : row.bytes;
}

/** Adds the optional fields a row has (absent ones stay absent). */
function addOptional(
  record: { contentType?: string | undefined; metadata?: EvtMetadata | undefined },
  row: EvtRow,
): void {
  if (row.content_type !== null) record.contentType = row.content_type;
  if (row.metadata !== null) {
    record.metadata =
      typeof row.metadata === "string" ? (JSON.parse(row.metadata) as EvtMetadata) : row.metadata;
  }
}

/** Maps a row to an {@link EvtRecord}, omitting absent optional fields. */
export function toEvtRecord(row: EvtRow): EvtRecord {
  const record: { -readonly [K in keyof EvtRecord]: EvtRecord[K] } = {
    seqNo: Number(row.seq_no),
    recordedAt: dateOf(row),
    bytes: bytesOf(row),
  };
  addOptional(record, row);
  return record;
}

/**
 * Maps a by-type row to a {@link TypedEvtRecord} in one object (no spread of an intermediate record: this runs
 * once per event of every projection and replay), omitting absent optional fields like {@link toEvtRecord}.
 */
export function toTypedEvtRecord(row: EvtRow, type: string, id: string, position: number): TypedEvtRecord {
  const record: { -readonly [K in keyof TypedEvtRecord]: TypedEvtRecord[K] } = {
    type,
    id,
    position,
    seqNo: Number(row.seq_no),
    recordedAt: dateOf(row),
    bytes: bytesOf(row),
  };
  addOptional(record, row);
  return record;
}
