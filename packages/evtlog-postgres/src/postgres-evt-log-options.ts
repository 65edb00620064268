import type { ConnectionOptions } from "node:tls";
import type { Logger } from "@eventsourced/core";
import type { FencingOptions, PersistFence } from "./persist-fence.js";
import type { PersistHook } from "./persist-hook.js";
import type { PgPoolLike } from "./pg-pool-like.js";

/** Options of {@link PostgresEvtLog.create}. */
export interface PostgresEvtLogOptions {
  /**
   * `postgres://user:password@host:port/database`; the log then creates (and on `close` ends) its own
   * `pg.Pool`. Ignored when `pool` is given. Without either, `pg` falls back to the `PG*` environment variables.
   */
  readonly connectionString?: string | undefined;
  /** An existing `pg`-compatible pool. The log never ends a pool it did not create. */
  readonly pool?: PgPoolLike | undefined;
  /** Schema of the tables; created when missing. Default `"eventsourced"`. */
  readonly schema?: string | undefined;
  /**
   * Name of the events table (a letter or `_`, then letters, digits or `_`, at most 45 characters, so the
   * names derived from it fit PostgreSQL's 63); the entity heads live in `<table>_streams`. Default `"events"`.
   */
  readonly table?: string | undefined;
  /** Most persists written together in one group-commit batch. Default 1000. */
  readonly maxBatchSize?: number | undefined;
  /**
   * How many connections the log may use: the size of the pool it creates from `connectionString` (default
   * 10: one committer, one LISTEN connection, the rest for reads), or, with `pool`, the most connections
   * that pool opens (its `max`; the log does not look inside a pool). Without it, a pool passed in is used
   * as a single connection, which is always safe but slower (and logged as a warning). Give 1 for a pool
   * of one, such as the one shared on a server started by `startEmbeddedPostgres`
   * (`embedded.maxConnections`). With fewer than 3, live readers poll instead of LISTENing; with 1, the
   * committer and the readers take turns on that connection.
   */
  readonly maxConnections?: number | undefined;
  /** TLS, passed to `pg` as its `ssl` option (e.g. `{ ca, rejectUnauthorized: true }`). */
  readonly ssl?: boolean | ConnectionOptions | undefined;
  /**
   * How often a live by-type reader polls when no notification arrives. Default 1000 ms with LISTEN,
   * 100 ms without.
   */
  readonly pollIntervalMs?: number | undefined;
  /** Rows per page for reads. Default 1000. */
  readonly readPageSize?: number | undefined;
  /**
   * Send NOTIFY on every committed batch (wakes live readers in other processes) and LISTEN for this log's
   * live readers when the pool has room. Default true, false on a single connection.
   */
  readonly notify?: boolean | undefined;
  /**
   * How long `close()` waits for persists in flight (and its own connections) before it gives up on a server
   * that does not answer: it then cuts its connections, and the persists still waiting fail with
   * `PersistError`, `outcomeUnknown` for a batch statement that went out. Default 5,000 ms.
   */
  readonly closeTimeoutMs?: number | undefined;
  /**
   * How long any statement of the log (a batch statement, a read page, `lastSeqNo`, a deletion, a NOTIFY)
   * may go unanswered. Then its connection is destroyed, never reused, and the statement fails: the persists
   * of a batch with `PersistError` with `outcomeUnknown` (it may have committed), a read with `ReadError`
   * (nothing changed; read again). Bounds a network partition (no reset, no answer), which TCP alone takes
   * many minutes to give up on. Well above any healthy statement: a batch of 1,000 persists takes tens of
   * milliseconds. Applies to a pool passed in too (`pg`'s per-statement `query_timeout`); not to the schema
   * setup. Default 30,000 ms.
   */
  readonly queryTimeoutMs?: number | undefined;
  /**
   * Each new connection of the pool the log creates first sets its server side to find a client that is gone
   * (ADR 0145): TCP keepalive after 10 s idle (probes 5 s apart, 4 of them) and `tcp_user_timeout` 30 s, so
   * the server ends a partitioned or dead client's session, and the log lock it may hold after a failed
   * statement, in about 30 s instead of up to 2 hours; and `client_connection_check_interval` 2 s
   * (PostgreSQL 14+), so a statement whose client has gone (it timed out, `queryTimeoutMs`) is cancelled
   * instead of committing later. One round trip per new connection. Default true; turn off for a pooler
   * that rejects or mishandles `SET` (PgBouncer in transaction mode passes it to whichever server connection
   * runs it). Not applied to a pool passed in (`pool`): set these on its connections yourself (e.g. in
   * `pg.Pool`'s `onConnect`, or for the server's role with `ALTER ROLE ... SET`).
   */
  readonly serverKeepalive?: boolean | undefined;
  /** Default `consoleLogger`. */
  readonly logger?: Logger | undefined;
  /** Run the versioned schema setup on create. Default true; turn off when migrations are run elsewhere. */
  readonly setup?: boolean | undefined;
  /**
   * Runs inside every group-commit batch's transaction, after its events are written and before it commits:
   * for views that must be consistent with the write (inline projections, e.g. `inlineProjections(...)` from
   * `@eventsourced/projections/postgres`). A persist it refuses fails alone; see {@link PersistHook}. Costs
   * two round trips per batch (BEGIN, COMMIT) plus the hook's own.
   */
  readonly inTransaction?: PersistHook | undefined;
  /**
   * Strict fencing (L2): the lease table fenced persists are checked against (`PostgresLeaseStore.table` of
   * `@eventsourced/leases/postgres`). The statement of a batch holding fenced persists also locks their live
   * lease rows `FOR SHARE` until it commits (no extra round trip, ADR 0132); unfenced batches cost nothing
   * more. See `PostgresEvtLog.fenced`.
   */
  readonly fencing?: FencingOptions | undefined;
}

/** Options of one {@link PostgresEvtLog.persist}. */
export interface PersistOptions {
  /** Write only under this live lease tenure; `OwnershipLostError` (nothing written) otherwise. */
  readonly fence?: PersistFence | undefined;
}
