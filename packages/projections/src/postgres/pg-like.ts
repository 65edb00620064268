/**
 * The structural slice of `pg` this subpath uses (`pg.Pool` and its clients satisfy it), so `pg` stays an
 * optional peer dependency and any `pg`-compatible pool works.
 */

/** The part of a query result read here. */
export interface PgResultLike {
  readonly rows: unknown[];
  readonly rowCount?: number | null | undefined;
}

/** Something that runs SQL: a pool, or a client inside a transaction. */
export interface PgQueryable {
  /** Runs one statement with positional parameters (`$1`, `$2`, ...). */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
}

/** A client checked out of a pool (`pg.PoolClient`): what exactly-once handlers get as their transaction. */
export interface PgClientLike extends PgQueryable {
  /** Returns the client to its pool; an error (or `true`) destroys the connection instead. */
  release(err?: Error | boolean): void;
  /** `pg` clients emit `error` when their connection dies between queries. */
  on?(event: "error", listener: (err: Error) => void): unknown;
  /** Removes a listener added with `on`. */
  removeListener?(event: "error", listener: (err: Error) => void): unknown;
}

/** A connection pool, e.g. `new pg.Pool({ connectionString })`. */
export interface PgPoolLike extends PgQueryable {
  /** Checks a client out of the pool (to be returned with `release`). */
  connect(): Promise<PgClientLike>;
}
