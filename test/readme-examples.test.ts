import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { afterAll, describe, expect, it } from "vitest";
import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../packages/evtlog-nats/test/support/nats-test-env.js";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../packages/evtlog-postgres/test/pg-test-database.js";
import { useTheCounter } from "./readme-examples/counter.js";
import { depositOnNats, fenceAfterATakeover } from "./readme-examples/evtlog-nats.js";
import {
  depositOnEmbedded,
  depositOnPostgres,
  logOnYourPool,
  writeUnderALease,
} from "./readme-examples/evtlog-postgres.js";
import { fencedInsert, leaseOnNats, runWhileLeased, takeShard } from "./readme-examples/leases.js";
import { snapshotsOnPostgres } from "./readme-examples/snapshots-postgres.js";

// The README examples of the adapter packages and the counter, run against the local servers (each in its
// own schema, stream and bucket). test/readme-code-blocks.test.ts checks the READMEs show exactly this code.
describe("the adapter READMEs' examples", () => {
  const schemas: string[] = [];
  const schema = (prefix: string) => {
    const name = uniqueSchemaName(prefix);
    schemas.push(name);
    return name;
  };
  afterAll(async () => {
    for (const name of schemas) await dropSchema(name);
  });

  it("evtlog-postgres: an entity on PostgreSQL gets the position of its event", async () => {
    await (await testPool(1)).end(); // fails with how to start PostgreSQL when it is down
    const position = await depositOnPostgres(DATABASE_URL, schema("readme_pg"));
    expect(position).toBeGreaterThan(0);
  });

  it("evtlog-postgres: a log on your own pool sets up its tables and leaves the pool to you", async () => {
    const name = schema("readme_pool");
    await logOnYourPool(DATABASE_URL, name);
    const pool = await testPool(1);
    try {
      const { rows } = await pool.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
        [name],
      );
      expect(rows.map((r: { table_name: string }) => r.table_name)).toContain("events");
    } finally {
      await pool.end();
    }
  });

  it("evtlog-postgres: the embedded server runs the same example", { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "readme-embedded-"));
    try {
      expect(await depositOnEmbedded(dataDir)).toBe(1);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("snapshots/postgres: the log and the store share a pool; the second deposit is snapshotted", async () => {
    expect(await snapshotsOnPostgres(DATABASE_URL, schema("readme_snap"))).toBe(2);
  });

  it("evtlog-nats and snapshots/nats: an entity on JetStream with KV snapshots", async () => {
    const nc = await connectTestNats();
    const name = uniqueName("readme");
    try {
      expect(await depositOnNats(NATS_URL, name)).toBe(2);
    } finally {
      await deleteStream(nc, name);
      await (await new Kvm(nc).open(`${name}-snapshots`)).destroy().catch(() => {});
      await nc.close();
    }
  });

  it("evtlog-postgres: a fenced write commits under the live tenure and is refused once it is over", async () => {
    expect(await writeUnderALease(DATABASE_URL, schema("readme_fence"))).toEqual([
      "written",
      "refused: nothing written",
    ]);
  });

  it("evtlog-nats: after the new owner's epoch marker the previous owner's late write is refused", async () => {
    const nc = await connectTestNats();
    const name = uniqueName("readme_markers");
    try {
      expect(await fenceAfterATakeover(NATS_URL, name)).toEqual(["refused", "new owner at seqNo 2"]);
    } finally {
      await deleteStream(nc, name);
      await nc.close();
    }
  });

  it("counter: the usage example gives the results its comments show", async () => {
    expect(await useTheCounter()).toEqual([
      { kind: "accepted", reply: 5n, seqNo: 1, position: 1 },
      { kind: "rejected", rejection: { kind: "underflow", value: 5n, dec: 7n }, seqNo: 1 },
      { kind: "accepted", reply: 5n, seqNo: 1, position: undefined },
    ]);
  });

  it("leases: a keeper runs batches while it holds the lease, takes shards, and fenced writes stop at a takeover", async () => {
    const name = schema("readme_leases");
    let calls = 0;
    const batches = await runWhileLeased(
      DATABASE_URL,
      name,
      async () => ++calls < 4,
      new AbortController().signal,
    );
    expect(batches).toBe(3);

    const { PostgresLeaseStore } = await import("@eventsourced/leases/postgres");
    const { LeaseKeeper } = await import("@eventsourced/leases");
    const store = await PostgresLeaseStore.create({
      connectionString: DATABASE_URL,
      schema: name,
      ttlMs: 5_000,
    });
    const keeper = new LeaseKeeper(store);
    const pool = await testPool(2);
    try {
      const lease = await takeShard(keeper, "counter", 7);
      expect(lease?.key).toBe("shard.counter.7");
      expect(await takeShard(new LeaseKeeper(store), "counter", 7)).toBeUndefined();
      const table = `"${name}"."notes"`;
      await pool.query(`CREATE TABLE ${table} (note text)`);
      expect(await fencedInsert(pool, store, lease!, table, "while held")).toBe(true);
      await lease!.release();
      expect(await fencedInsert(pool, store, lease!, table, "after release")).toBe(false);
      const { rows } = await pool.query(`SELECT note FROM ${table}`);
      expect(rows).toEqual([{ note: "while held" }]);
    } finally {
      await keeper.close();
      await store.close();
      await pool.end();
    }
  });

  it("leases: a lease on NATS KV", async () => {
    const nc = await connectTestNats();
    const bucket = uniqueName("readme-leases");
    try {
      expect(await leaseOnNats(NATS_URL, bucket)).toBeGreaterThan(0);
    } finally {
      await (await new Kvm(nc).open(bucket)).destroy().catch(() => {});
      await nc.close();
    }
  });
});
