import type pg from "pg";

/** pg's client internals this helper reaches into: the socket, to hold back what the server sends. */
interface WithSocket {
  connection: {
    stream: { pause(): void; resume(): void; readonly bytesRead: number; readonly readableLength: number };
  };
}

/** The statement whose completion frees the connection. */
const LAST_STATEMENT = "SELECT 1 AS last_before_hand_over";

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * Hands `held` (the only connection of `pool`) over to the caller waiting on `pool` at the very moment its
 * backend dies, deterministically: the client's socket is paused, a last statement runs, and once its whole
 * response (up to `ReadyForQuery`) sits in the socket's buffer the backend is terminated from `admin` (it
 * sends FATAL 57P01 and exits); once that error is buffered too the socket resumes, so that the statement's
 * `ReadyForQuery` and the FATAL error are parsed in one go. The statement's callback releases `held`;
 * pg-pool hands it to the waiter synchronously, before the FATAL is parsed. Resolves to whether each
 * `error` the client emitted had a listener (an unheard one is an uncaught exception).
 *
 * The buffer is watched rather than `pg_stat_activity`: a backend reports itself idle just before it sends
 * `ReadyForQuery`, and one terminated in between never sends it, so its FATAL error goes to the statement.
 */
export async function handOverDyingConnection(
  pool: pg.Pool,
  held: pg.PoolClient,
  admin: pg.Pool,
): Promise<boolean[]> {
  const pid = (await held.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
  const socket = (held as unknown as WithSocket).connection.stream;
  // The size of the last statement's response, measured on a run of it while nothing else is in flight.
  const before = socket.bytesRead;
  await held.query(LAST_STATEMENT);
  const responseBytes = socket.bytesRead - before;
  await until(() => pool.waitingCount > 0, "a caller to wait on the pool");
  const heard: boolean[] = [];
  const emit = held.emit.bind(held);
  held.emit = (event: string | symbol, ...args: unknown[]) => {
    if (event === "error") heard.push(held.listenerCount("error") > 0);
    return emit(event, ...args);
  };
  socket.pause();
  held.query(LAST_STATEMENT, () => held.release());
  await until(() => socket.readableLength >= responseBytes, "the last statement's whole response");
  await admin.query("SELECT pg_terminate_backend($1)", [pid]);
  await until(() => socket.readableLength > responseBytes, "the backend's FATAL error");
  socket.resume();
  await until(() => heard.length > 0, "the client to report its connection lost");
  return heard;
}
