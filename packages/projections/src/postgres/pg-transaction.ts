import { checkOut, classifyQueryFailure } from "@eventsourced/evtlog-postgres/internal";
import type { PgClientLike, PgPoolLike } from "./pg-like.js";

/**
 * Runs `work` in one transaction on one connection of `pool`, opened by `begin`: committed (by `commit`)
 * when it resolves, rolled back when it throws (a connection that failed is destroyed, not returned to the
 * pool).
 */
export async function inTransaction<T>(
  pool: PgPoolLike,
  begin: string,
  work: (tx: PgClientLike) => Promise<T>,
  commit: string,
): Promise<T> {
  let broken: Error | undefined;
  // A connection that dies between two statements (a terminated backend) emits `error`: the next statement
  // fails with it, and an unheard event must not bring the process down meanwhile. The listener is
  // attached as the pool hands the client over (`checkOut`), which is itself such a moment.
  const onError = (err: Error) => {
    broken = err;
  };
  const client = await checkOut(pool, onError);
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query(commit);
    return result;
  } catch (err) {
    // A statement that broke the connection leaves nothing to roll back: the pool drops the connection.
    if (classifyQueryFailure(err).discardConnection) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
    try {
      await client.query("ROLLBACK");
    } catch (rollbackErr) {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    }
    throw err;
  } finally {
    client.removeListener?.("error", onError);
    if (broken !== undefined) client.on?.("error", () => {});
    client.release(broken);
  }
}
