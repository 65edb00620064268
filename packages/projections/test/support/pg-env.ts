import pg from "pg";

export {
  DATABASE_URL,
  dropSchema,
  uniqueSchemaName,
} from "../../../evtlog-postgres/test/pg-test-database.js";

import { DATABASE_URL } from "../../../evtlog-postgres/test/pg-test-database.js";

/**
 * A pool whose connections carry `applicationName`, so a test can terminate exactly its own backends
 * (`pg_terminate_backend`) and nobody else's on the shared server. Fails with how to start PostgreSQL.
 */
export async function namedPool(applicationName: string, max = 6): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max, application_name: applicationName });
  pool.on("error", () => {});
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL}: ${(err as Error).message}. Start it with ` +
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set DATABASE_URL.",
    );
  }
  return pool;
}

/** Terminates every backend of `applicationName` (from another connection); resolves to how many. */
export async function terminateBackends(admin: pg.Pool, applicationName: string): Promise<number> {
  const res = await admin.query(
    "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1",
    [applicationName],
  );
  return res.rows[0].n as number;
}
