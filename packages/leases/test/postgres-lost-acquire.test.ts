import { isEventSourcedError } from "@eventsourced/core";
import type { LeaseGrant } from "@eventsourced/leases";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../evtlog-postgres/test/pg-test-database.js";

// ADR 0148: an acquire statement committed, but its answer was lost with the connection (a client-side
// `query_timeout` after a TTL leaves the same unknown outcome). The row names this owner and nobody knows
// of it; the store's next acquire of the key by the same owner takes it over under a new epoch instead of
// waiting out the TTL (30 s here, longer than the test may take). Never someone else's row. The store talks
// to the shared server through a proxy that swallows the server's answers, then cuts the connection.
describe("a PostgreSQL lease acquire whose answer is lost with its connection", () => {
  const schema = uniqueSchemaName("leases_lost_acquire");
  let proxy: FaultProxy;
  let store: PostgresLeaseStore;
  let admin: pg.Pool;

  beforeAll(async () => {
    proxy = await FaultProxy.inFrontOf(DATABASE_URL, 5432);
    store = await PostgresLeaseStore.create({ connectionString: proxy.url, schema, ttlMs: 30_000 });
    admin = await testPool(1);
  });
  afterAll(async () => {
    await store?.close().catch(() => {});
    await admin?.end();
    proxy?.close();
    await dropSchema(schema);
  });

  /** The row's holder as the server has it (not through the proxy). */
  async function holderRow(key: string): Promise<{ owner: string; epoch: number } | undefined> {
    const { rows } = await admin.query(
      `SELECT owner, epoch::float8 AS epoch FROM "${schema}".leases WHERE key = $1 AND expires_at > clock_timestamp()`,
      [key],
    );
    return rows[0];
  }

  /** Starts an acquire with the answers swallowed, waits until its row is committed, then cuts. */
  async function lostAcquire(key: string, owner: string, landed: boolean): Promise<void> {
    proxy.swallow = "toClient";
    const result = store.tryAcquire(key, owner).then(
      () => undefined,
      (err: unknown) => err,
    );
    for (let i = 0; landed && i < 200 && (await holderRow(key))?.owner !== owner; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (!landed) await new Promise((resolve) => setTimeout(resolve, 200));
    proxy.cut();
    proxy.heal();
    const lost = await result;
    expect(isEventSourcedError(lost, "LEASE_STORE_FAILED")).toBe(true);
  }

  it("an acquire that committed although its answer was lost: the next acquire by the same owner gets the key", async () => {
    await lostAcquire("landed", "A", true);
    const orphan = (await holderRow("landed"))!;
    expect(orphan.owner).toBe("A");
    const grant = await store.tryAcquire("landed", "A");
    expect(grant).toMatchObject({ key: "landed", owner: "A" });
    expect(grant!.epoch).toBeGreaterThan(orphan.epoch);
    expect(await store.holder("landed")).toEqual({ key: "landed", owner: "A", epoch: grant!.epoch });
    const renewed = (await store.renew(grant!)) as LeaseGrant;
    expect(renewed).toMatchObject({ owner: "A", epoch: grant!.epoch });
    expect(await store.release(renewed)).toBe(true);
    expect(await store.tryAcquire("landed", "B")).toMatchObject({ owner: "B" });
  }, 30_000);

  it("never takes over another owner's lease after a lost acquire, nor one of its own it did not lose", async () => {
    const b = (await store.tryAcquire("other", "B"))!;
    await lostAcquire("other", "A", false);
    expect(await store.tryAcquire("other", "A")).toBeUndefined();
    expect(await store.holder("other")).toEqual({ key: "other", owner: "B", epoch: b.epoch });
    const own = (await store.tryAcquire("own", "A"))!;
    expect(await store.tryAcquire("own", "A")).toBeUndefined();
    expect(await store.holder("own")).toEqual({ key: "own", owner: "A", epoch: own.epoch });
  }, 30_000);
});
