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

describeSnapshotStoreContract("PostgresSnapshotStore", async () => {
  await (await testPool(1)).end();
  const schema = uniqueSchemaName("snapshots");
  const store = await PostgresSnapshotStore.create({ connectionString: DATABASE_URL, schema });
  return {
    subject: store,
    cleanup: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
});

describe("PostgresSnapshotStore", () => {
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
