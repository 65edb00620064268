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
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  release(err?: Error | boolean): void;
}

/** A connection pool, e.g. `new pg.Pool({ connectionString })`. */
export interface PgPoolLike {
  connect(): Promise<PgClientLike>;
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  readonly options?: {
    readonly host?: string | undefined;
    readonly port?: number | undefined;
    readonly database?: string | undefined;
    readonly connectionString?: string | undefined;
  };
}
