import { InvalidArgumentError } from "@eventsourced/core";
import { fromRequestJson, type OperatorRequestJson } from "../operator-request-json.js";
import { PROJECTION_NAME_PATTERN } from "../projection-options.js";
import type { Advance, Fence, ProjectionRow, StoredProjectionStatus } from "../projection-store.js";
import type { ProjectionTables } from "./projection-tables.js";

// The checkpoint rows of PostgresProjectionStore: their columns, their mapping, the commit-with-checkpoint block.

/** A checkpoint row as `pg` returns it. */
export interface Row {
  name: string;
  type: string;
  position: string | number;
  epoch: string | number;
  status: StoredProjectionStatus;
  error: string | null;
  last_event_at: Date | null;
  requests: OperatorRequestJson[];
}

/** The columns of a checkpoint row, in {@link Row} order. */
export const ROW_COLUMNS = "name, type, position, epoch, status, error, last_event_at, requests";

/** Raised by the checkpoint block of `PostgresProjectionStore.commitWith` (a code of our own). */
export const FENCED_SQLSTATE = "ESF01";

/** A checkpoint row as the runtime reads it. */
export function toRow(row: Row): ProjectionRow {
  return {
    name: row.name,
    type: row.type,
    position: Number(row.position),
    epoch: Number(row.epoch),
    status: row.status,
    error: row.error ?? undefined,
    lastEventAt: row.last_event_at ?? undefined,
    ...(row.requests.length === 0 ? {} : { requests: row.requests.map(fromRequestJson) }),
  };
}

/**
 * The checkpoint's compare-and-set and `COMMIT` as one statement string, sent together: one round trip fewer
 * per batch than a parameterised UPDATE followed by COMMIT (the values are validated integers, a validated
 * name and an ISO timestamp, inlined). When the checkpoint is not at `fence` the block raises
 * {@link FENCED_SQLSTATE}.
 */
export function checkpointAndCommitSql(t: ProjectionTables, fence: Fence, advance: Advance): string {
  const integers = [fence.position, fence.epoch, advance.position];
  if (!PROJECTION_NAME_PATTERN.test(fence.name) || !integers.every((n) => Number.isSafeInteger(n))) {
    throw new InvalidArgumentError(
      `invalid checkpoint ${JSON.stringify({ fence, position: advance.position })}`,
    );
  }
  const at =
    advance.lastEventAt === undefined
      ? "last_event_at"
      : `'${advance.lastEventAt.toISOString()}'::timestamptz`;
  return `DO $$ BEGIN
    UPDATE ${t.projections} SET position = ${advance.position}, last_event_at = ${at}, updated_at = now()
      WHERE name = '${fence.name}' AND position = ${fence.position} AND epoch = ${fence.epoch};
    IF NOT FOUND THEN RAISE EXCEPTION 'projection checkpoint fenced' USING ERRCODE = '${FENCED_SQLSTATE}'; END IF;
  END $$; COMMIT`;
}
