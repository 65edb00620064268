import type { PgPoolLike, PgResultLike } from "./pg-pool-like.js";

/**
 * `pool` with every `query` bounded by `pg`'s per-statement `query_timeout` (`queryTimeoutMs`, ADR 0140):
 * behind a network partition (no reset, no answer) a statement fails with "Query read timeout" after
 * `timeoutMs` instead of when TCP gives up, minutes later, and `pg.Pool` destroys its connection (it releases
 * a client whose statement failed with the error), so the connection is never reused. Clients checked out
 * with `connect` are the pool's own: their users pass `query_timeout` themselves.
 */
export function boundedPool(pool: PgPoolLike, timeoutMs: number): PgPoolLike {
  const query = (
    textOrConfig: string | { readonly text: string },
    values?: unknown[],
  ): Promise<PgResultLike> =>
    pool.query(
      typeof textOrConfig === "string"
        ? { text: textOrConfig, values: values ?? [], query_timeout: timeoutMs }
        : { ...(textOrConfig as { text: string; values: unknown[] }), query_timeout: timeoutMs },
    );
  // Forwards the callback form too: `checkOut` relies on it (see `check-out.ts`).
  const connect = (callback?: unknown): unknown =>
    (pool.connect as unknown as (callback?: unknown) => unknown).call(pool, callback);
  return { query, connect } as unknown as PgPoolLike;
}
