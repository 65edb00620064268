/**
 * The `error` listener that a checked-out client needs, attached at the moment the pool hands the client
 * over: with `pg.Pool`, `await pool.connect()` leaves a window in which the client has no listener at all.
 */

/** A client that reports a dead connection with an `error` event (`pg.PoolClient`). */
interface ErrorEmitting {
  on?(event: "error", listener: (err: Error) => void): unknown;
}

/** `pg.Pool#connect`'s callback form (pg-pool calls it synchronously as it hands the client over). */
type ConnectCallback<C> = (err: Error | null | undefined, client: C | undefined) => void;

/**
 * Checks a client out of `pool` with `onError` already listening to it.
 *
 * `pg.Pool` takes the pool's own `error` listener off a client when it hands it to a waiting `connect()`,
 * and a promise-based `connect()` lets the caller add its own only a microtask later. A backend terminated
 * right then (`pg_terminate_backend`, a failover) sends its FATAL error in the same network read as the
 * `ReadyForQuery` that freed the client, so the client emits `error` in between with nobody listening,
 * and Node turns that into an uncaught exception that ends the process. The callback form of `connect`
 * runs synchronously at the hand-over, so the listener is attached before the rest of that read is
 * parsed. A pool-like without the callback form (it returns a promise and ignores the callback) is used
 * through its promise.
 */
export function checkOut<C extends ErrorEmitting>(
  pool: { connect(): Promise<C> },
  onError: (err: Error) => void,
): Promise<C> {
  return new Promise<C>((resolve, reject) => {
    let settled = false;
    const settle = (err: unknown, client: C | undefined) => {
      if (settled) return;
      settled = true;
      if (client === undefined) {
        reject(err ?? new Error("the pool handed over no client"));
        return;
      }
      client.on?.("error", onError);
      resolve(client);
    };
    const connect = pool.connect as unknown as (callback: ConnectCallback<C>) => unknown;
    const returned = connect.call(pool, (err, client) => settle(err, err == null ? client : undefined));
    if (isPromiseLike<C>(returned)) {
      returned.then(
        (client) => settle(undefined, client),
        (err: unknown) => settle(err, undefined),
      );
    }
  });
}

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
