import type { BatchShape } from "./batch-assembly.js";
import { batchResultTypes, type TypedQueryClient } from "./batch-result-types.js";
import type { PendingPersist } from "./pending-persist.js";
import { batchResultOf, type PersistStatementRow } from "./persist-statement.js";
import type { PgClientLike } from "./pg-pool-like.js";

/**
 * What a batch statement returns: the indexes of the persists that won and their last positions; for a fenced
 * batch, the indexes of the persists left out because their fence was not live (nothing of them written).
 */
export interface BatchResult {
  won: number[];
  positions: (string | number)[];
  fencedOut?: ReadonlySet<number>;
}

/** The statements that take a batch's persists as arrays, and the names under which they are prepared. */
export interface ArrayStatements {
  /** The batch statement (any persists). */
  readonly batch: string;
  readonly batchName: string;
  /** The batch statement for batches whose persists have one event each. */
  readonly singles: string;
  readonly singlesName: string;
  /** The single-events statement for batches in which every persist advances an existing entity. */
  readonly advances: string;
  readonly advancesName: string;
}

/** The SQL a committer runs, and the names under which it prepares them (unique per table). */
export interface CommitStatements extends ArrayStatements {
  /** The statement for a batch of one unfenced persist of one event. */
  readonly one: string;
  readonly oneName: string;
  /** The fenced variants of the array statements, for a log created with `fencing` (ADR 0132). */
  readonly fenced?: ArrayStatements | undefined;
}

/**
 * Batches up to this many persists use a named prepared statement: parsed once per connection and, after
 * PostgreSQL's five trial executions, run on a generic plan without planning (planning this statement costs
 * about as much as executing it for a few dozen persists; measured 1.0 vs 1.4-2.0 ms per 32-persist batch).
 * Larger batches go unnamed so they are planned with their real sizes: a generic plan assumes short arrays
 * and may pick nested loops, quadratic in the batch size, which is harmless up to this bound only.
 */
const PREPARED_MAX_BATCH = 128;

/**
 * Runs the statement for `shape` (see `batchShape`) that writes `batch`, with `batchValues`' `values`; it
 * fails with pg's "Query read timeout" after `query_timeout` ms unanswered.
 */
export async function runBatchStatement(
  client: PgClientLike,
  statements: CommitStatements,
  batch: readonly PendingPersist[],
  shape: BatchShape,
  values: unknown[],
  query_timeout: number,
): Promise<BatchResult> {
  if (shape.kind === "one") {
    const res = await client.query({ name: statements.oneName, text: statements.one, values, query_timeout });
    const position = (res.rows[0] as { position: string | number | null }).position;
    return position === null ? { won: [], positions: [] } : { won: [0], positions: [position] };
  }
  const set = shape.fenced ? statements.fenced : statements;
  // A fence is validated against the log's `fencing` before it is queued, so a fenced batch has its statements.
  if (set === undefined) throw new Error("a fenced batch on a log without fencing");
  const [text, preparedName] =
    shape.kind === "advances"
      ? [set.advances, set.advancesName]
      : shape.kind === "singles"
        ? [set.singles, set.singlesName]
        : [set.batch, set.batchName];
  const name = batch.length <= PREPARED_MAX_BATCH ? preparedName : undefined;
  const types = batchResultTypes(client);
  const res =
    types !== undefined
      ? await (client as unknown as TypedQueryClient).query({ name, text, values, types, query_timeout })
      : await client.query({ name, text, values, query_timeout });
  return batchResultOf(res.rows[0] as PersistStatementRow, batch);
}
