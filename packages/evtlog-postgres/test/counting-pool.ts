import type { PgClientLike, PgPoolLike, PgResultLike } from "@eventsourced/evtlog-postgres";
import type pg from "pg";

/** A pool that only has what `PgPoolLike` promises (no `options` to peek at), counting what reaches it. */
export interface CountingPool extends PgPoolLike {
  /** Connections checked out and queries run through the pool. */
  readonly calls: { connects: number; queries: number };
}

export function countingPool(pool: pg.Pool): CountingPool {
  const calls = { connects: 0, queries: 0 };
  return {
    calls,
    connect: async () => {
      calls.connects++;
      return (await pool.connect()) as unknown as PgClientLike;
    },
    // Plain text or a config (the log's reads ask for array rows): pg.Pool takes either.
    query: (text: string | pg.QueryArrayConfig, values?: unknown[]): Promise<PgResultLike> => {
      calls.queries++;
      return pool.query(text as string, values);
    },
    get options(): never {
      throw new Error("the log must not read the pool's private options");
    },
  } as CountingPool;
}
