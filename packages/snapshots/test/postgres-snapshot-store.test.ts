import { ConnectionError, ErrorCode, isEventSourcedError } from "@eventsourced/core";
import { describeSnapshotStoreContract } from "@eventsourced/core/testing/vitest";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import { describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../evtlog-postgres/test/pg-test-database.js";

const INVALID_SNAPSHOTS = [
  { seqNo: -1, bytes: new Uint8Array() },
  { seqNo: 1.5, bytes: new Uint8Array() },
  { seqNo: Number.NaN, bytes: new Uint8Array() },
  { seqNo: 9, bytes: "not bytes" as unknown as Uint8Array },
];

describeSnapshotStoreContract("PostgresSnapshotStore", async ({ history }) => {
  await (await testPool(1)).end();
  const schema = uniqueSchemaName("snapshots");
  const store = await PostgresSnapshotStore.create({ connectionString: DATABASE_URL, schema, history });
  return {
    subject: store,
    cleanup: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
});

describe("PostgresSnapshotStore", () => {
  it("migrates a version 1 table (one snapshot per entity, no versions) to version 2, keeping its snapshots", async () => {
    const schema = uniqueSchemaName("snapshots_v1");
    const pool = await testPool(2);
    try {
      // The table and bookkeeping exactly as version 1 of this package created them.
      await pool.query(`CREATE SCHEMA "${schema}";
        CREATE TABLE "${schema}"."eventsourced_schema_version" (
          component text PRIMARY KEY, version integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO "${schema}"."eventsourced_schema_version" (component, version) VALUES ('snapshots:snapshots', 1);
        CREATE TABLE "${schema}"."snapshots" (
          type text NOT NULL, id text NOT NULL, seq_no bigint NOT NULL, bytes bytea NOT NULL,
          saved_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (type, id));
        INSERT INTO "${schema}"."snapshots" (type, id, seq_no, bytes) VALUES
          ('counter', 'a', 100, '\\x01'), ('counter', 'b', 7, '\\x0203');`);
      const store = await PostgresSnapshotStore.create({ pool, schema, history: 2 });
      const [a, b] = [await store.load("counter", "a"), await store.load("counter", "b")];
      expect([a?.seqNo, Array.from(a!.bytes), a?.version]).toEqual([100, [1], undefined]);
      expect([b?.seqNo, Array.from(b!.bytes), b?.version]).toEqual([7, [2, 3], undefined]);
      await store.save("counter", "a", { seqNo: 200, bytes: new Uint8Array([9]), version: "v2" });
      expect((await store.loadAll("counter", "a")).map((s) => [s.seqNo, s.version])).toEqual([
        [200, "v2"],
        [100, undefined],
      ]);
      const version = await pool.query(
        `SELECT version FROM "${schema}".eventsourced_schema_version WHERE component = 'snapshots:snapshots'`,
      );
      expect(version.rows).toEqual([{ version: 2 }]);
      await store.close();
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });

  it("works on a pool it was given and leaves that pool open", async () => {
    const schema = uniqueSchemaName("snapshots_pool");
    const pool = await testPool(2);
    try {
      const store = await PostgresSnapshotStore.create({ pool, schema, table: "Snap_Shots" });
      await store.save("t", "x", { seqNo: 3, bytes: new Uint8Array([1]) });
      await store.close();
      expect((await pool.query(`SELECT seq_no FROM "${schema}"."Snap_Shots"`)).rows).toEqual([
        { seq_no: "3" },
      ]);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });

  it("fails with a ConnectionError naming host, port and database, without the password", async () => {
    const err = await PostgresSnapshotStore.create({
      connectionString: "postgres://postgres:s3cret-pw@127.0.0.1:1/nodb",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).target).toBe("127.0.0.1:1/nodb");
    expect((err as ConnectionError).message).toContain("127.0.0.1:1/nodb");
    expect((err as ConnectionError).message).not.toContain("s3cret-pw");
  });

  it("refuses a snapshot with an invalid seqNo or bytes with InvalidArgumentError, keeping the stored one", async () => {
    const schema = uniqueSchemaName("snapshots_invalid");
    const store = await PostgresSnapshotStore.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 1,
    });
    try {
      await store.save("t", "s", { seqNo: 3, bytes: new Uint8Array([3]) });
      for (const snapshot of INVALID_SNAPSHOTS) {
        const err = await store.save("t", "s", snapshot).catch((e: unknown) => e);
        expect(isEventSourcedError(err, ErrorCode.InvalidArgument), String(snapshot.seqNo)).toBe(true);
      }
      expect((await store.load("t", "s"))?.seqNo).toBe(3);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it("rejects a schema name that is not a plain identifier", async () => {
    await expect(
      PostgresSnapshotStore.create({ connectionString: DATABASE_URL, schema: 'x"; drop' }),
    ).rejects.toThrow(/invalid schema name/);
  });
});
