import type { ConnectionOptions } from "node:tls";
import type { PgPoolLike } from "./pg-pool-like.js";

/** A pool this package created (and therefore ends). */
export interface OwnedPool extends PgPoolLike {
  end(): Promise<void>;
}

/**
 * Creates a `pg.Pool`. `pg` is imported dynamically so that it stays a peer dependency: users who pass
 * their own pool never load it through us.
 */
export async function createPool(options: {
  connectionString: string | undefined;
  max: number;
  ssl: boolean | ConnectionOptions | undefined;
  applicationName: string;
  onIdleError: (err: Error) => void;
}): Promise<OwnedPool> {
  const pg = await import("pg");
  const Pool = pg.default?.Pool ?? pg.Pool;
  const pool = new Pool({
    connectionString: options.connectionString,
    max: options.max,
    ssl: options.ssl,
    application_name: options.applicationName,
    connectionTimeoutMillis: 10_000,
  });
  // Without a listener, an idle client's connection error would crash the process.
  pool.on("error", options.onIdleError);
  return pool as unknown as OwnedPool;
}
