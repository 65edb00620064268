import { silentLogger } from "@eventsourced/core";
import { LeaseKeeper, type LeaseLogEntry } from "@eventsourced/leases";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import pg from "pg";
import { afterAll, describe, it } from "vitest";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../evtlog-postgres/test/pg-test-database.js";

// The two describes run concurrently (own schema, pool and keeper each); both mostly wait on timers.
describe.concurrent("PostgreSQL leases when connections are terminated", () => {
  const schema = uniqueSchemaName("leases_terminate");
  afterAll(async () => {
    await dropSchema(schema);
  });

  it("keeps a lease whose store connections are terminated between renewals: the next renewal reconnects", async ({
    expect,
  }) => {
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

describe.concurrent("PostgreSQL leases behind a network partition (no reset, no answer)", () => {
  const schema = uniqueSchemaName("leases_partition");
  afterAll(async () => {
    await dropSchema(schema);
  });

  it("a renewal lost in the partition times out: the keeper renews again once it heals, and close() returns", async ({
    expect,
  }) => {
    // While it swallows, bytes are dropped both ways without closing anything.
    const proxy = await FaultProxy.inFrontOf(DATABASE_URL, 5432);
    const store = await PostgresLeaseStore.create({ connectionString: proxy.url, schema, ttlMs: 1_000 });
    const log: LeaseLogEntry[] = [];
    // A timeline for the failure message: this test once failed under load (0 renewals) without evidence.
    const started = Date.now();
    const timeline: string[] = [];
    const mark = (what: string) => timeline.push(`${Date.now() - started} ms ${what}`);
    const keeper = new LeaseKeeper(store, {
      logger: silentLogger,
      onLog: (e) => {
        log.push(e);
        mark(`${e.event} epoch ${e.epoch}`);
      },
    });
    try {
      const first = await keeper.acquire("k");
      proxy.swallow = "both";
      mark(`swallowing (connections opened so far: ${proxy.accepted})`);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      // Safe: the lease ended locally at its deadline, whatever the store said.
      expect(first.isValid()).toBe(false);
      proxy.swallow = "none";
      mark(`healed (connections opened so far: ${proxy.accepted})`);
      let current = await keeper.acquire("k");
      mark(`acquired epoch ${current.epoch}`);
      const firstAfterHeal = current.epoch;
      // Renewals of any lease taken after healing: under load (seen at load 7: the acquire took 330 ms, its
      // first renewal did not come back before the deadline) the first one may rightly end locally, and
      // then it is taken again, as an application would.
      const renewals = () => log.filter((e) => e.event === "renewed" && e.epoch >= firstAfterHeal).length;
      // Liveness bound, not a timing assertion: renewals resume once the stuck query has timed out.
      const deadline = Date.now() + 10_000;
      while (renewals() < 2 && Date.now() < deadline) {
        if (!current.isValid()) {
          current = await keeper.acquire("k");
          mark(`acquired again: epoch ${current.epoch}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      mark(`stopped waiting (connections opened so far: ${proxy.accepted})`);
      expect(renewals(), timeline.join("; ")).toBeGreaterThanOrEqual(2);
    } finally {
      await keeper.close();
      await store.close();
      proxy.close();
    }
  }, 30_000);
});
