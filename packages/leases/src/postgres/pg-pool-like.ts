/**
 * The structural slice of `pg` the PostgreSQL lease store uses (`pg.Pool` satisfies it), so `pg` stays an
 * optional peer dependency and any `pg`-compatible pool works.
 */

/** The part of a query result the store reads. */
export interface PgResultLike {
  readonly rows: unknown[];
}

/** A client checked out of a pool (used by the schema setup only). */
export interface PgClientLike {
  /** Runs one statement with positional parameters (`$1`, `$2`, ...). */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  /** Returns the client to its pool; passing an error (or `true`) destroys the connection instead. */
  release(err?: Error | boolean): void;
}

/**
 * A connection pool, e.g. `new pg.Pool({ connectionString })`. Every lease operation is one autocommit
 * statement through `query`, so a transaction pooler (PgBouncer in transaction mode) in between is fine.
 */
export interface PgPoolLike {
  /** Checks a client out of the pool (the caller releases it). */
  connect(): Promise<PgClientLike>;
  /** Runs one autocommit statement on any pooled connection. */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  /** `pg.Pool` exposes its options; only used to name the server in error messages. */
  readonly options?: {
    readonly host?: string | undefined;
    readonly port?: number | undefined;
    readonly database?: string | undefined;
    readonly connectionString?: string | undefined;
  };
}
