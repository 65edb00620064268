/**
 * The small structural slice of `pg` this package uses, so that any `pg`-compatible pool works and `pg`
 * stays a peer dependency (nothing here imports it).
 */

/** The part of a query result we read. */
export interface PgResultLike {
  readonly rows: unknown[];
  readonly rowCount?: number | null | undefined;
}

/** A `NOTIFY` delivered to a listening client. */
export interface PgNotificationLike {
  readonly channel: string;
  readonly payload?: string | undefined;
}

/** A client that runs plain queries and goes back to its pool: enough for a setup transaction. */
export interface PgQueryClientLike {
  /** Runs one statement with positional parameters (`$1`, `$2`, ...). */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  /** Returns the client to its pool; passing an error (or `true`) destroys the connection instead. */
  release(err?: Error | boolean): void;
  /** `pg` clients emit `error` when their connection dies while no statement is running. */
  on?(event: "error", listener: (err: Error) => void): unknown;
  /** Removes a listener added with `on`. */
  removeListener?(event: "error", listener: (err: Error) => void): unknown;
}

/**
 * A pool that hands out {@link PgQueryClientLike} clients: what a snapshot store needs (`pg.Pool`
 * satisfies it).
 */
export interface PgQueryPoolLike {
  /** Checks a client out of the pool (the caller releases it). */
  connect(): Promise<PgQueryClientLike>;
  /** Runs one statement on any pooled connection. */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
}

/** A client checked out of a pool (`pg.PoolClient`), as the event log uses it. */
export interface PgClientLike extends PgQueryClientLike {
  /** Runs one statement with positional parameters (`$1`, `$2`, ...). */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  /** A named statement is prepared once per connection and then only bound and executed. */
  query(config: {
    readonly name?: string | undefined;
    readonly text: string;
    readonly values: unknown[];
    /** `pg`'s per-statement bound: the statement fails with "Query read timeout" after this many ms. */
    readonly query_timeout?: number | undefined;
  }): Promise<PgResultLike>;
  /** Delivers the `NOTIFY`s of the channels this client `LISTEN`s to. */
  on(event: "notification", listener: (message: PgNotificationLike) => void): unknown;
  /** Reports a connection that failed while the client was idle. */
  on(event: "error", listener: (err: Error) => void): unknown;
  /** Stops delivering notifications to `listener`. */
  removeListener(event: "notification", listener: (message: PgNotificationLike) => void): unknown;
  /** Stops reporting errors to `listener`. */
  removeListener(event: "error", listener: (err: Error) => void): unknown;
}

/**
 * A connection pool as the event log uses it (`pg.Pool` satisfies it). The log reads nothing else from
 * the pool: tell it the pool's size with the `maxConnections` option.
 * @example
 * import pg from "pg";
 * const pool: PgPoolLike = new pg.Pool({ connectionString, max: 10 });
 */
export interface PgPoolLike extends PgQueryPoolLike {
  /** Checks a client out of the pool (the caller releases it). */
  connect(): Promise<PgClientLike>;
  /** Runs one statement with positional parameters (`$1`, `$2`, ...) on any pooled connection. */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  /**
   * Runs one statement given as a config object. With `rowMode: "array"` (reads of events) each row is an
   * array of its column values in select-list order; a pool that returns objects instead still works: the
   * log takes their values in order.
   */
  query(config: {
    readonly text: string;
    readonly values: unknown[];
    readonly rowMode?: "array" | undefined;
    /**
     * `pg`'s per-statement bound (see `queryTimeoutMs`): after this many ms without an answer the statement
     * fails with "Query read timeout" and `pg.Pool` destroys its connection.
     */
    readonly query_timeout?: number | undefined;
  }): Promise<PgResultLike>;
}
