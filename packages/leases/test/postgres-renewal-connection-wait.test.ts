import { silentLogger } from "@eventsourced/core";
import { LeaseKeeper, type LeaseLogEntry } from "@eventsourced/leases";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import { afterAll, describe, it } from "vitest";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "../../evtlog-postgres/test/pg-test-database.js";

// A renewal that must open a connection during a partition: its startup message is lost, and before the
// store's own pool had a connect timeout of one TTL (ADR 0152) it waited out the default 10 s. The keeper sends no renewal round while one is pending, so every lease it
// took meanwhile went unrenewed; and the lost attempts held the pool's slots for as long.
describe("PostgreSQL leases: a renewal waiting for a connection in a partition", () => {
  const schema = uniqueSchemaName("leases_conn_wait");
  afterAll(async () => {
    await dropSchema(schema);
  });

  it("fails within about a TTL: renewals resume soon after the partition heals", async ({ expect }) => {
    const proxy = await FaultProxy.inFrontOf(DATABASE_URL, 5432);
    const store = await PostgresLeaseStore.create({ connectionString: proxy.url, schema, ttlMs: 1_000 });
    const log: LeaseLogEntry[] = [];
    const keeper = new LeaseKeeper(store, { logger: silentLogger, onLog: (e) => log.push(e) });
    try {
      await keeper.acquire("k");
      // The idle connection goes; the next renewal must open one, and the partition swallows its startup.
      proxy.swallow = "both";
      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      proxy.swallow = "none";
      // Liveness bound: a few TTLs, well under the 10 s connect timeout that the renewal round, and then the
      // pool slots the lost connection attempts held, made the keeper wait out before.
      const deadline = Date.now() + 5_000;
      const second = await keeper.acquire("k");
      const renewals = () => log.filter((e) => e.event === "renewed" && e.epoch === second.epoch).length;
      while (renewals() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(renewals()).toBeGreaterThanOrEqual(2);
    } finally {
      await keeper.close();
      await store.close();
      proxy.close();
    }
  }, 30_000);
});
