import type { PgPoolLike, PgResultLike } from "./pg-pool-like.js";

/** A statement as the log passes it to `pool.query` in config form (see `evt-row.ts`). */
interface QueryConfig {
  readonly text: string;
  readonly values: unknown[];
  readonly rowMode?: "array" | undefined;
}

/**
 * `pool` with every `query` bounded by `pg`'s per-statement `query_timeout` (`queryTimeoutMs`, ADR 0140):
 * behind a network partition (no reset, no answer) a statement fails with "Query read timeout" after
 * `timeoutMs` instead of when TCP gives up, minutes later, and `pg.Pool` destroys its connection (it releases
 * a client whose statement failed with the error), so the connection is never reused. Clients checked out
 * with `connect` are the pool's own: their users pass `query_timeout` themselves.
 */
export function boundedPool(pool: PgPoolLike, timeoutMs: number): PgPoolLike {
  // Only the fields the log's statements use, copied one by one: an object spread cost about 2 us a read.
  const query = (textOrConfig: string | QueryConfig, values?: unknown[]): Promise<PgResultLike> =>
    pool.query(
      typeof textOrConfig === "string"
        ? { text: textOrConfig, values: values ?? [], query_timeout: timeoutMs }
        : {
            text: textOrConfig.text,
            values: textOrConfig.values,
            rowMode: textOrConfig.rowMode,
            query_timeout: timeoutMs,
          },
    );
  // Forwards the callback form too: `checkOut` relies on it (see `check-out.ts`).
  const connect = (callback?: unknown): unknown =>
    (pool.connect as unknown as (callback?: unknown) => unknown).call(pool, callback);
  return { query, connect } as unknown as PgPoolLike;
}
