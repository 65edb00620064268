import { ConfigurationError } from "@eventsourced/core";
import {
  connectionTarget,
  createPool,
  runVersionedSetup,
  setupError,
} from "@eventsourced/evtlog-postgres/internal";
import { ProjectionFencedError } from "../errors.js";
import { fromRequestJson, newRequestJson } from "../operator-request-json.js";
import type {
  Advance,
  DeadLetter,
  Fence,
  OperatorRequest,
  ProjectionRow,
  ProjectionStore,
  StoredOperatorRequest,
  StoredProjectionStatus,
} from "../projection-store.js";
import { checkStoreArguments } from "../store-arguments.js";
import { checkpointAndCommitSql, FENCED_SQLSTATE, ROW_COLUMNS, type Row, toRow } from "./checkpoint-sql.js";
import { insertDeadLetter, selectDeadLetters } from "./dead-letter-sql.js";
import type { PgClientLike, PgPoolLike, PgQueryable } from "./pg-like.js";
import { inTransaction } from "./pg-transaction.js";
import type { PostgresProjectionStoreOptions } from "./postgres-projection-store-options.js";
import { type ProjectionTables, projectionTables } from "./projection-tables.js";

/**
 * Checkpoints, status and dead letters in PostgreSQL: the store for `exactlyOnce` handlers (their writes and
 * the checkpoint's compare-and-set share one transaction) and for at-least-once ones. The event log may be
 * PostgreSQL or NATS.
 * @example
 * const store = await PostgresProjectionStore.create({ pool });
 * const handler = exactlyOnce(store, { handle: (evts, tx) => upsertTotals(tx, evts) });
 */
export class PostgresProjectionStore implements ProjectionStore {
  readonly #pool: PgPoolLike;
  readonly #ownedPool: { end(): Promise<void> } | undefined;
  readonly #t: ProjectionTables;
  readonly #begin: string;
  readonly #saveSql: string;

  private constructor(
    pool: PgPoolLike,
    owned: { end(): Promise<void> } | undefined,
    t: ProjectionTables,
    idleMs: number,
    synchronousCommit: boolean,
  ) {
    this.#pool = pool;
    this.#ownedPool = owned;
    this.#t = t;
    this.#begin =
      `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${idleMs}` +
      (synchronousCommit ? "" : "; SET LOCAL synchronous_commit = off");
    this.#saveSql = `UPDATE ${t.projections} SET position = $4, last_event_at = coalesce($5, last_event_at), updated_at = now()
      WHERE name = $1 AND position = $2 AND epoch = $3`;
  }

  /**
   * Connects (or uses `pool`), runs the versioned schema setup unless `setup: false` (the event log's setup
   * runner: shared version table and setup lock), and returns the store. Rejects with `ConnectionError` naming
   * host, port and database (never the password) when the server is unreachable, `ConfigurationError` when it
   * refuses the setup (a missing privilege, a name taken) or an option is invalid, and `InvalidArgumentError`
   * on a schema or table name that is not a plain identifier.
   */
  static async create(options: PostgresProjectionStoreOptions = {}): Promise<PostgresProjectionStore> {
    const t = projectionTables(options.schema ?? "eventsourced", options.table ?? "projections");
    const idleMs = options.transactionIdleTimeoutMs ?? 5_000;
    if (!Number.isInteger(idleMs) || idleMs < 1) {
      throw new ConfigurationError(
        `invalid transactionIdleTimeoutMs ${idleMs}`,
        "transactionIdleTimeoutMs",
        "options",
      );
    }
    const max = options.maxConnections ?? 4;
    if (!Number.isInteger(max) || max < 1) {
      throw new ConfigurationError(
        `invalid maxConnections ${max}: a positive integer`,
        "maxConnections",
        "options",
      );
    }
    const connectionString = options.pool === undefined ? options.connectionString : undefined;
    const target = connectionTarget(connectionString, options.pool !== undefined);
    const owned =
      options.pool === undefined
        ? await createPool({
            connectionString,
            max,
            ssl: undefined,
            serverKeepalive: options.serverKeepalive ?? true,
            applicationName: "eventsourced-projections",
            // A failed batch or save reports its own error; an idle connection's failure needs no more.
            onIdleError: () => {},
          })
        : undefined;
    const pool: PgPoolLike = options.pool ?? (owned as unknown as PgPoolLike);
    try {
      if (options.setup ?? true) await runVersionedSetup(pool, t);
      else await pool.query("SELECT 1");
    } catch (err) {
      await owned?.end().catch(() => {});
      throw setupError(err, target, `set up the projection tables ${t.projections}`);
    }
    return new PostgresProjectionStore(pool, owned, t, idleMs, options.synchronousCommit ?? true);
  }

  /** The quoted, qualified name of the checkpoint table (for operators and tests). */
  get table(): string {
    return this.#t.projections;
  }

  /** The quoted, qualified name of the dead-letter table. */
  get deadLetterTable(): string {
    return this.#t.deadLetters;
  }

  /**
   * Runs `work` in one transaction on one connection: committed (by `commit`, plain `COMMIT` by default)
   * when it resolves, rolled back when it throws (a connection that failed is destroyed, not returned to the
   * pool).
   */
  async transaction<T>(work: (tx: PgClientLike) => Promise<T>, commit = "COMMIT"): Promise<T> {
    return inTransaction(this.#pool, this.#begin, work, commit);
  }

  async claim(name: string, type: string, epoch: number): Promise<ProjectionRow> {
    const res = await this.#pool.query(
      `INSERT INTO ${this.#t.projections} AS p (name, type, epoch) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET epoch = EXCLUDED.epoch, updated_at = now() WHERE p.epoch <= EXCLUDED.epoch
       RETURNING ${ROW_COLUMNS}`,
      [name, type, epoch],
    );
    const row = res.rows[0] as Row | undefined;
    if (row === undefined) {
      const current = await this.load(name);
      throw new ProjectionFencedError(name, current?.position ?? 0, epoch, {
        detail: `claimed by epoch ${current?.epoch}`,
      });
    }
    if (row.type !== type) {
      throw new ConfigurationError(
        `projection ${JSON.stringify(name)} reads type ${JSON.stringify(row.type)}, not ${JSON.stringify(type)}: give a new projection a new name`,
        "type",
        "ProjectionOptions",
      );
    }
    return toRow(row);
  }

  async load(name: string): Promise<ProjectionRow | undefined> {
    const res = await this.#pool.query(`SELECT ${ROW_COLUMNS} FROM ${this.#t.projections} WHERE name = $1`, [
      name,
    ]);
    const row = res.rows[0] as Row | undefined;
    return row === undefined ? undefined : toRow(row);
  }

  /** Every projection's row, by name (for operators: the `eventsourced projections list` command). */
  async list(): Promise<ProjectionRow[]> {
    const res = await this.#pool.query(`SELECT ${ROW_COLUMNS} FROM ${this.#t.projections} ORDER BY name`);
    return (res.rows as Row[]).map(toRow);
  }

  /** At-least-once saves: autocommit when there are no dead letters, one transaction when there are. */
  async save(fence: Fence, advance: Advance): Promise<void> {
    if (advance.deadLetters.length === 0) return this.saveIn(this.#pool, fence, advance);
    await this.transaction((tx) => this.saveIn(tx, fence, advance));
  }

  /**
   * The checkpoint's compare-and-set (and dead letters) on `tx`: inside an exactly-once handler's
   * transaction. Throws `ProjectionFencedError` when the checkpoint is not at `fence` (the caller rolls back).
   */
  async saveIn(tx: PgQueryable, fence: Fence, advance: Advance): Promise<void> {
    const res = await tx.query(this.#saveSql, [
      fence.name,
      fence.position,
      fence.epoch,
      advance.position,
      advance.lastEventAt ?? null,
    ]);
    if (res.rowCount !== 1) throw new ProjectionFencedError(fence.name, fence.position, fence.epoch);
    for (const letter of advance.deadLetters) await insertDeadLetter(tx, this.#t, letter);
  }

  /**
   * `work` and the checkpoint's compare-and-set in one transaction, the compare-and-set and `COMMIT` sent
   * together: one round trip fewer per batch than a parameterised UPDATE followed by COMMIT (the values are
   * validated integers, a validated name and an ISO timestamp, inlined). When the checkpoint is not at `fence`
   * the block raises, the transaction rolls back and this throws `ProjectionFencedError`.
   */
  async commitWith(fence: Fence, advance: Advance, work: (tx: PgClientLike) => Promise<void>): Promise<void> {
    try {
      await this.transaction(
        async (tx) => {
          await work(tx);
          for (const letter of advance.deadLetters) await insertDeadLetter(tx, this.#t, letter);
        },
        checkpointAndCommitSql(this.#t, fence, advance),
      );
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code === FENCED_SQLSTATE) {
        throw new ProjectionFencedError(fence.name, fence.position, fence.epoch, { cause: err });
      }
      throw err;
    }
  }

  /** Checkpoint back to 0 and dead letters gone, compare-and-set on `fence`, on `tx` (a rebuild's transaction). */
  async rebuildIn(tx: PgQueryable, fence: Fence): Promise<void> {
    const res = await tx.query(
      `UPDATE ${this.#t.projections} SET position = 0, last_event_at = NULL, updated_at = now()
       WHERE name = $1 AND position = $2 AND epoch = $3`,
      [fence.name, fence.position, fence.epoch],
    );
    if (res.rowCount !== 1) throw new ProjectionFencedError(fence.name, fence.position, fence.epoch);
    await tx.query(`DELETE FROM ${this.#t.deadLetters} WHERE name = $1`, [fence.name]);
  }

  async setStatus(name: string, status: StoredProjectionStatus, error?: string): Promise<void> {
    checkStoreArguments({ status });
    await this.#pool.query(
      `UPDATE ${this.#t.projections} SET status = $2, error = $3, updated_at = now() WHERE name = $1`,
      [name, status, status === "failed" ? (error ?? null) : null],
    );
  }

  async reset(name: string, position: number): Promise<void> {
    checkStoreArguments({ position });
    await this.transaction(async (tx) => {
      await tx.query(
        `UPDATE ${this.#t.projections} SET position = $2, last_event_at = NULL, updated_at = now() WHERE name = $1`,
        [name, position],
      );
      await tx.query(`DELETE FROM ${this.#t.deadLetters} WHERE name = $1 AND position > $2`, [
        name,
        position,
      ]);
    });
  }

  async request(name: string, request: OperatorRequest): Promise<StoredOperatorRequest | undefined> {
    checkStoreArguments({ request });
    const json = newRequestJson(request);
    const res = await this.#pool.query(
      `UPDATE ${this.#t.projections} SET requests = requests || jsonb_build_array($2::jsonb) WHERE name = $1`,
      [name, JSON.stringify(json)],
    );
    return res.rowCount === 1 ? fromRequestJson(json) : undefined;
  }

  async completeRequest(name: string, id: string): Promise<void> {
    await this.#pool.query(
      `UPDATE ${this.#t.projections}
       SET requests = coalesce((SELECT jsonb_agg(r) FROM jsonb_array_elements(requests) r WHERE r->>'id' <> $2), '[]'::jsonb)
       WHERE name = $1`,
      [name, id],
    );
  }

  async deadLetters(name: string): Promise<DeadLetter[]> {
    return selectDeadLetters(this.#pool, this.#t, name);
  }

  async deleteDeadLetter(name: string, position: number): Promise<boolean> {
    checkStoreArguments({ position });
    return this.deleteDeadLetterIn(this.#pool, name, position);
  }

  /** {@link deleteDeadLetter} on `tx` (a re-drive's transaction). */
  async deleteDeadLetterIn(tx: PgQueryable, name: string, position: number): Promise<boolean> {
    const res = await tx.query(`DELETE FROM ${this.#t.deadLetters} WHERE name = $1 AND position = $2`, [
      name,
      position,
    ]);
    return res.rowCount === 1;
  }

  /** Ends the pool if the store created it. */
  async close(): Promise<void> {
    await this.#ownedPool?.end();
  }
}
