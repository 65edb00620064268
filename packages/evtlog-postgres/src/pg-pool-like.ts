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

/** A client checked out of a pool (`pg.PoolClient`). */
export interface PgClientLike {
  /** Runs one statement with positional parameters (`$1`, `$2`, ...). */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  /** A named statement is prepared once per connection and then only bound and executed. */
  query(config: {
    readonly name: string;
    readonly text: string;
    readonly values: unknown[];
  }): Promise<PgResultLike>;
  /** Returns the client to its pool; passing an error (or `true`) destroys the connection instead. */
  release(err?: Error | boolean): void;
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
 * A connection pool (`pg.Pool` satisfies it).
 * @example
 * import pg from "pg";
 * const pool: PgPoolLike = new pg.Pool({ connectionString, max: 10 });
 */
export interface PgPoolLike {
  /** Checks a client out of the pool (the caller releases it). */
  connect(): Promise<PgClientLike>;
  /** Runs one statement on any pooled connection. */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  /** `pg.Pool` exposes its options; when `max` is 1 the log shares that single connection (see README). */
  readonly options?: {
    readonly max?: number | undefined;
    readonly host?: string | undefined;
    readonly port?: number | undefined;
    readonly database?: string | undefined;
    readonly connectionString?: string | undefined;
  };
}
