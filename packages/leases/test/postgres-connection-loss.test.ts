import { silentLogger } from "@eventsourced/core";
import { LeaseKeeper, type LeaseLogEntry } from "@eventsourced/leases";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../evtlog-postgres/test/pg-test-database.js";

describe("PostgreSQL leases when connections are terminated", () => {
  const schema = uniqueSchemaName("leases_terminate");
  afterAll(async () => {
    await dropSchema(schema);
  });

  it("keeps a lease whose store connections are terminated between renewals: the next renewal reconnects", async () => {
    const applicationName = `leases-terminate-${Date.now().toString(36)}`;
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, application_name: applicationName });
    pool.on("error", () => {});
    const admin = await testPool(1);
    const store = await PostgresLeaseStore.create({ pool, schema, ttlMs: 2_000 });
    const log: LeaseLogEntry[] = [];
    const keeper = new LeaseKeeper(store, { logger: silentLogger, onLog: (e) => log.push(e) });
    try {
      const lease = await keeper.acquire("k");
      for (let round = 0; round < 3; round++) {
        const { rows } = await admin.query(
          "SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t",
          [applicationName],
        );
        expect(rows[0].n).toBeGreaterThan(0);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      expect(lease.isValid()).toBe(true);
      expect(log.filter((e) => e.event === "renewed").length).toBeGreaterThanOrEqual(3);
      expect(await store.holder("k")).toMatchObject({ owner: keeper.owner, epoch: lease.epoch });
    } finally {
      await keeper.close();
      await store.close();
      await pool.end();
      await admin.end();
    }
  });
});
