import { connect, type NatsConnection } from "@nats-io/transport-node";
import pg from "pg";

/** The default PostgreSQL the benchmarks use (`DATABASE_URL` overrides it). */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
/** The default NATS server the benchmarks use (`NATS_URL` overrides it). */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
/** The PostgreSQL the suites measure on. */
export const DATABASE_URL: string = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
/** The NATS server the suites measure on. */
export const NATS_URL: string = process.env.NATS_URL ?? DEFAULT_NATS_URL;

/** The error of a suite that cannot reach PostgreSQL: what failed and how to start the server. */
export function postgresUnreachable(err: unknown): Error {
  return new Error(
    `PostgreSQL is not reachable at ${DATABASE_URL} (${(err as Error).message}). Start it with ` +
      "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set DATABASE_URL.",
  );
}

/** A pool of `max` connections on {@link DATABASE_URL} that answered a query (else {@link postgresUnreachable}). */
export async function checkedPool(max: number): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max });
  pool.on("error", () => {});
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    await pool.end().catch(() => {});
    throw postgresUnreachable(err);
  }
  return pool;
}

/** A connection to {@link NATS_URL}; when there is none, the error says how to start the server. */
export function connectBenchNats(): Promise<NatsConnection> {
  return connect({ servers: NATS_URL, noAsyncTraces: true }).catch((err: Error) => {
    throw new Error(
      `NATS is not reachable at ${NATS_URL} (${err.message}). Start it with ` +
        "`start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 " +
        "-js -sd /var/lib/nats-server -l /var/log/nats-server.log` or set NATS_URL.",
    );
  });
}

/** Runs `body` on a connection of its own to `url` (by default {@link DATABASE_URL}) and closes it. */
export async function withClient<T>(body: (client: pg.Client) => Promise<T>, url = DATABASE_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return await body(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** `SHOW server_version` of the server at `url`, or undefined when it cannot be reached. */
export function postgresServerVersion(url: string): Promise<string | undefined> {
  const show = (client: pg.Client) => client.query<{ server_version: string }>("SHOW server_version");
  const version = withClient(async (client) => (await show(client)).rows[0]?.server_version, url);
  return version.catch(() => undefined);
}

/** The version of the NATS server at `url` as it announces itself, or undefined when it cannot be reached. */
export async function natsVersion(url: string): Promise<string | undefined> {
  try {
    const nc = await connect({ servers: url, timeout: 5_000 });
    const version = nc.info?.version;
    await nc.close();
    return version === undefined ? undefined : `nats-server v${version}`;
  } catch {
    return undefined;
  }
}
