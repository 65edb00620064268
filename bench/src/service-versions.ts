import { connect } from "@nats-io/transport-node";
import pg from "pg";

/** The default PostgreSQL the benchmarks use (`DATABASE_URL` overrides it). */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
/** The default NATS server the benchmarks use (`NATS_URL` overrides it). */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** `SHOW server_version` of the server at `url`, or undefined when it cannot be reached. */
export async function postgresServerVersion(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>("SHOW server_version");
    return result.rows[0]?.server_version;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
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
