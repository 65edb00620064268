import type { TypeHead } from "@eventsourced/core";
import type { ProjectionRow } from "@eventsourced/projections";

/** How far a stored checkpoint is behind the log's head for its type, as `Projection.lag()` computes it. */
export interface StoredLag {
  /** Head position − checkpoint position, in the log's position units. */
  readonly events: number;
  /** recordedAt of the head − recordedAt of the last applied event; `null` before the first event. */
  readonly ms: number | null;
  readonly headPosition: number;
  readonly position: number;
}

/** The lag of `row` against `head` (both from the log's clock, so no client clock skew). */
export function storedLag(row: ProjectionRow, head: TypeHead | undefined): StoredLag {
  if (head === undefined || head.position <= row.position) {
    return { events: 0, ms: 0, headPosition: head?.position ?? 0, position: row.position };
  }
  return {
    events: head.position - row.position,
    ms:
      row.lastEventAt === undefined
        ? null
        : Math.max(0, head.recordedAt.getTime() - row.lastEventAt.getTime()),
    headPosition: head.position,
    position: row.position,
  };
}

/** `1234 ms` or `-` when unknown. */
export function showMs(ms: number | null): string {
  return ms === null ? "-" : `${ms} ms`;
}
