/**
 * The structural slice of `pg` the snapshot store uses (`pg.Pool` satisfies it), so `pg` stays an optional
 * peer dependency of this subpath.
 */

/** The part of a query result the store reads. */
export interface PgResultLike {
  readonly rows: unknown[];
}

/** A client checked out of a pool. */
export interface PgClientLike {
  /** Runs one statement with positional parameters (`$1`, `$2`, ...). */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  /** Returns the client to its pool; passing an error (or `true`) destroys the connection instead. */
  release(err?: Error | boolean): void;
}

/** A connection pool, e.g. `new pg.Pool({ connectionString })`. */
export interface PgPoolLike {
  /** Checks a client out of the pool (the caller releases it). */
  connect(): Promise<PgClientLike>;
  /** Runs one statement on any pooled connection. */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  readonly options?: {
    readonly host?: string | undefined;
    readonly port?: number | undefined;
    readonly database?: string | undefined;
    readonly connectionString?: string | undefined;
  };
}
