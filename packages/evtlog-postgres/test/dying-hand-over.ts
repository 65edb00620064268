import type pg from "pg";

/** pg's client internals this helper reaches into: the socket, to hold back what the server sends. */
interface WithSocket {
  connection: { stream: { pause(): void; resume(): void } };
}

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 3_000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * Hands `held` (the only connection of `pool`) over to the caller waiting on `pool` at the very moment its
 * backend dies, deterministically: the client's socket is paused, a last statement runs, the backend is
 * terminated from `admin` once idle (it sends FATAL 57P01 and exits), then the socket resumes, so that
 * the statement's `ReadyForQuery` and the FATAL error are parsed in one go. The statement's callback
 * releases `held`; pg-pool hands it to the waiter synchronously, before the FATAL is parsed. Resolves to
 * whether each `error` the client emitted had a listener (an unheard one is an uncaught exception).
 */
export async function handOverDyingConnection(
  pool: pg.Pool,
  held: pg.PoolClient,
  admin: pg.Pool,
): Promise<boolean[]> {
  const pid = (await held.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
  await until(() => pool.waitingCount > 0, "a caller to wait on the pool");
  const heard: boolean[] = [];
  const emit = held.emit.bind(held);
  held.emit = (event: string | symbol, ...args: unknown[]) => {
    if (event === "error") heard.push(held.listenerCount("error") > 0);
    return emit(event, ...args);
  };
  const socket = (held as unknown as WithSocket).connection.stream;
  socket.pause();
  held.query("SELECT 1", () => held.release());
  const state = async () =>
    (await admin.query("SELECT state FROM pg_stat_activity WHERE pid = $1", [pid])).rows[0]?.state as
      | string
      | undefined;
  await until(async () => (await state()) === "idle", "the last statement to complete");
  await admin.query("SELECT pg_terminate_backend($1)", [pid]);
  await until(async () => (await state()) === undefined, "the backend to exit");
  socket.resume();
  await until(() => heard.length > 0, "the client to report its connection lost");
  return heard;
}
