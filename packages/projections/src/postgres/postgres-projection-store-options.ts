import type { PgPoolLike } from "./pg-like.js";

/** Options of `PostgresProjectionStore.create`. */
export interface PostgresProjectionStoreOptions {
  /** An existing `pg`-compatible pool (never ended by the store). */
  readonly pool?: PgPoolLike | undefined;
  /** Or a connection string: the store then creates (and on `close()` ends) its own `pg.Pool`. */
  readonly connectionString?: string | undefined;
  /** Size of a pool the store creates. Default 4. */
  readonly maxConnections?: number | undefined;
  /**
   * Each new connection of the pool the store creates sets server-side TCP keepalive, `tcp_user_timeout` and
   * `client_connection_check_interval`, so the server ends a gone client's session in about 30 s (as
   * `PostgresEvtLog`'s option of the same name, ADR 0145). Default true; off for a pooler that rejects
   * `SET`. Not applied to a pool passed in.
   */
  readonly serverKeepalive?: boolean | undefined;
  /** Schema of the tables; created when missing. Default `"eventsourced"`. */
  readonly schema?: string | undefined;
  /** Name of the checkpoint table; dead letters go to `<table>_dead_letters`. Default `"projections"`. */
  readonly table?: string | undefined;
  /** Run the versioned schema setup on create. Default true. */
  readonly setup?: boolean | undefined;
  /**
   * `idle_in_transaction_session_timeout` of exactly-once transactions: a process frozen inside one (SIGSTOP,
   * a long GC pause) loses its session after this long, so its row locks cannot stall the instance that took
   * over. Default 5,000 ms; raise it if handlers wait on something else mid-transaction.
   */
  readonly transactionIdleTimeoutMs?: number | undefined;
  /**
   * `false` commits exactly-once transactions with `synchronous_commit = off`: no wait for the WAL flush. Safe
   * for exactly-once (read model and checkpoint still commit or vanish together; after a database crash the
   * last batches are applied again), but a `waitFor()` answered just before such a crash may be undone for a
   * while. Default true.
   */
  readonly synchronousCommit?: boolean | undefined;
}
