import type { Logger } from "@eventsourced/core";
import type { PgQueryPoolLike } from "./pg-pool-like.js";

/** How long a by-type reader is held back before it warns. */
const WARN_AFTER_MS = 10_000;
/** Least time between two warnings of one reader while it stays held back. */
const WARN_EVERY_MS = 60_000;

/** The oldest transaction on the server that has an id, as `pg_stat_activity` shows it. */
export interface OldestTransaction {
  readonly pid: number;
  readonly database: string | null;
  readonly state: string | null;
  readonly xid: string;
  readonly transactionStart: Date | null;
  /** Its current or last statement, cut to 200 characters (hidden without `pg_read_all_stats`). */
  readonly query: string | null;
}

/** The oldest running transaction with an id (the one that holds by-type readers back), if any. */
export async function oldestTransaction(pool: PgQueryPoolLike): Promise<OldestTransaction | undefined> {
  const res = await pool.query(
    `SELECT pid, datname, state, backend_xid::text AS xid, xact_start, left(query, 200) AS query
     FROM pg_stat_activity WHERE backend_xid IS NOT NULL ORDER BY age(backend_xid) DESC LIMIT 1`,
  );
  const row = res.rows[0] as
    | {
        pid: number;
        datname: string | null;
        state: string | null;
        xid: string;
        xact_start: Date | null;
        query: string | null;
      }
    | undefined;
  return row === undefined
    ? undefined
    : {
        pid: row.pid,
        database: row.datname,
        state: row.state,
        xid: row.xid,
        transactionStart: row.xact_start,
        query: row.query,
      };
}

/**
 * Tells the operator when a by-type reader has waited long for an older transaction to end (ADR 0108): by-type
 * reads deliver an event only once every transaction older than it has ended, so one long write transaction
 * anywhere on the server (a migration, a batch job, a session left idle in a transaction) stalls them. Warns
 * once the reader has been held back for 10 s in a row, naming the oldest transaction, then at most every
 * minute while it lasts.
 */
export class HeldBackWarning {
  readonly #pool: PgQueryPoolLike;
  readonly #logger: Logger;
  readonly #type: string;
  readonly #warnAfterMs: number;
  #since: number | undefined;
  #warnedAt: number | undefined;

  constructor(pool: PgQueryPoolLike, logger: Logger, type: string, warnAfterMs = WARN_AFTER_MS) {
    this.#pool = pool;
    this.#logger = logger;
    this.#type = type;
    this.#warnAfterMs = warnAfterMs;
  }

  /** The reader delivered a page that was not held back: a later hold starts a new spell. */
  settled(): void {
    this.#since = undefined;
    this.#warnedAt = undefined;
  }

  /** The reader's page stopped at an unsettled row; warns when the spell has lasted long enough. */
  async heldBack(): Promise<void> {
    const now = performance.now();
    this.#since ??= now;
    if (now - this.#since < this.#warnAfterMs) return;
    if (this.#warnedAt !== undefined && now - this.#warnedAt < WARN_EVERY_MS) return;
    this.#warnedAt = now;
    const oldest = await oldestTransaction(this.#pool).catch(() => undefined);
    this.#logger.warn(
      `by-type reader of ${this.#type} held back for ${Math.round((now - this.#since) / 1000)} s by an older ` +
        "transaction still running; events are delivered once every older transaction has ended",
      {
        type: this.#type,
        heldBackMs: Math.round(now - this.#since),
        oldestTransaction: oldest,
      },
    );
  }
}
