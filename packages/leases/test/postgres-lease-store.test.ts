import { isEventSourcedError } from "@eventsourced/core";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import { describeLeaseStoreContract } from "@eventsourced/leases/testing/vitest";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../evtlog-postgres/test/pg-test-database.js";

describeLeaseStoreContract("PostgresLeaseStore", async () => {
  const schema = uniqueSchemaName("leases_contract");
  const store = await PostgresLeaseStore.create({ connectionString: DATABASE_URL, schema, ttlMs: 1_000 });
  return {
    subject: store,
    cleanup: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
});

describe("PostgresLeaseStore", () => {
  const schema = uniqueSchemaName("leases_pg");
  let pool: pg.Pool;
  let store: PostgresLeaseStore;

  beforeAll(async () => {
    pool = await testPool(4);
    store = await PostgresLeaseStore.create({ pool, schema, table: "Shard_Leases", ttlMs: 5_000 });
  });
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  it("sets up idempotently when several stores start at once, and records its schema version", async () => {
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => PostgresLeaseStore.create({ pool, schema, table: "Shard_Leases" })),
    );
    await Promise.all(stores.map((s) => s.close()));
    const { rows } = await pool.query(
      `SELECT version FROM "${schema}".eventsourced_schema_version WHERE component = 'leases:Shard_Leases'`,
    );
    expect(rows).toEqual([{ version: 1 }]);
  });

  it("stores expiry on the database clock, epoch and owner in the documented columns", async () => {
    const grant = (await store.tryAcquire("shard.counter.7", "A"))!;
    const { rows } = await pool.query(
      `SELECT key, owner, epoch::int AS epoch,
              round(extract(epoch FROM expires_at - renewed_at) * 1000)::int AS ttl_ms,
              expires_at > clock_timestamp() AS live
         FROM ${store.table.qualifiedName} WHERE key = $1`,
      [grant.key],
    );
    expect(rows).toEqual([
      { key: "shard.counter.7", owner: "A", epoch: grant.epoch, ttl_ms: 5_000, live: true },
    ]);
  });

  it("keeps the row when a lease is released, so the next epoch is greater", async () => {
    const a = (await store.tryAcquire("kept", "A"))!;
    await store.release(a);
    const { rows } = await pool.query(
      `SELECT owner, epoch::int AS epoch FROM ${store.table.qualifiedName} WHERE key = 'kept'`,
    );
    expect(rows).toEqual([{ owner: "A", epoch: a.epoch }]);
    expect((await store.tryAcquire("kept", "B"))?.epoch).toBe(a.epoch + 1);
  });

  it("fences a write of a superseded epoch: a takeover committing first leaves the stale write with no row", async () => {
    await pool.query(`CREATE TABLE "${schema}".fenced_writes (epoch bigint)`);
    const a = (await store.tryAcquire("fenced", "A"))!;
    const write = (epoch: number) =>
      pool.query(
        `WITH fence AS MATERIALIZED (${store.table.fenceSql("$1", "$2", "$3")})
         INSERT INTO "${schema}".fenced_writes SELECT $3 WHERE EXISTS (SELECT FROM fence) RETURNING epoch`,
        ["fenced", "A", epoch],
      );
    expect((await write(a.epoch)).rows).toHaveLength(1);
    // A takeover in an open transaction (as if A had expired): A's write waits for it, then finds no live row.
    const taker = await pool.connect();
    try {
      await taker.query("BEGIN");
      await taker.query(
        `UPDATE ${store.table.qualifiedName} SET owner = 'B', epoch = epoch + 1, expires_at = clock_timestamp() + interval '5 s' WHERE key = 'fenced'`,
      );
      const stale = write(a.epoch);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await taker.query("COMMIT");
      expect((await stale).rows).toHaveLength(0);
    } finally {
      taker.release();
    }
    expect(await store.renew(a)).toBeUndefined();
  });

  it("refuses schema and table names that are not plain identifiers", async () => {
    for (const name of ['x"; drop table y; --', "1abc", "a-b", ""]) {
      await expect(PostgresLeaseStore.create({ pool, schema: name })).rejects.toSatisfy((err) =>
        isEventSourcedError(err, "INVALID_ARGUMENT"),
      );
      await expect(PostgresLeaseStore.create({ pool, schema, table: name })).rejects.toSatisfy((err) =>
        isEventSourcedError(err, "INVALID_ARGUMENT"),
      );
    }
  });

  it("fails with ConnectionError naming the server, never the password, when it is unreachable", async () => {
    const err = await PostgresLeaseStore.create({
      connectionString: "postgres://user:s3cret@127.0.0.1:1/nowhere",
    }).catch((e: unknown) => e);
    expect(isEventSourcedError(err, "CONNECTION_FAILED")).toBe(true);
    expect(String((err as Error).message)).toContain("127.0.0.1:1/nowhere");
    expect(String((err as Error).message)).not.toContain("s3cret");
  });

  it("reports a failing statement as LeaseStoreError", async () => {
    const broken = await PostgresLeaseStore.create({ pool, schema, table: "dropped_later" });
    await pool.query(`DROP TABLE "${schema}".dropped_later`);
    await expect(broken.tryAcquire("k", "A")).rejects.toSatisfy((err) =>
      isEventSourcedError(err, "LEASE_STORE_FAILED"),
    );
  });
});
