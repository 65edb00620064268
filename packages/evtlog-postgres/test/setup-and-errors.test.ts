import {
  ConfigurationError,
  ConnectionError,
  InvalidArgumentError,
  PersistError,
  silentLogger,
} from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import { describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

const evt = (text: string) => ({ bytes: new TextEncoder().encode(text) });

describe("PostgresEvtLog setup", () => {
  it("is safe when several pools set up the same schema at once", async () => {
    const schema = uniqueSchemaName("setup_race");
    try {
      const created = await Promise.all([
        ...Array.from({ length: 5 }, () =>
          PostgresEvtLog.create({
            connectionString: DATABASE_URL,
            schema,
            maxConnections: 2,
            logger: silentLogger,
          }),
        ),
        PostgresSnapshotStore.create({ connectionString: DATABASE_URL, schema, maxConnections: 1 }),
      ]);
      const pool = await testPool(1);
      const versions = await pool.query(
        `SELECT component, version FROM "${schema}".eventsourced_schema_version ORDER BY component`,
      );
      await pool.end();
      expect(versions.rows).toEqual([
        { component: "evtlog:events", version: 3 },
        { component: "snapshots:snapshots", version: 2 },
      ]);
      const logs = created.slice(0, 5) as PostgresEvtLog[];
      await logs[0]!.persist("setup", "x", 0, [evt("1")]);
      expect(await logs[4]!.lastSeqNo("setup", "x")).toBe(1);
      await Promise.all(created.map((c) => c.close()));
    } finally {
      await dropSchema(schema);
    }
  });

  it("runs setup again without changes, and can skip it", async () => {
    const schema = uniqueSchemaName("setup_again");
    try {
      const first = await PostgresEvtLog.create({
        connectionString: DATABASE_URL,
        schema,
        maxConnections: 2,
      });
      await first.persist("setup", "x", 0, [evt("1")]);
      await first.close();
      const second = await PostgresEvtLog.create({
        connectionString: DATABASE_URL,
        schema,
        maxConnections: 2,
      });
      expect(await second.lastSeqNo("setup", "x")).toBe(1);
      await second.close();
      const third = await PostgresEvtLog.create({
        connectionString: DATABASE_URL,
        schema,
        setup: false,
        maxConnections: 2,
      });
      expect(await third.lastSeqNo("setup", "x")).toBe(1);
      await third.close();
    } finally {
      await dropSchema(schema);
    }
  });

  it("uses quoted, configurable schema and table names", async () => {
    const schema = uniqueSchemaName("Mixed_Case");
    try {
      const log = await PostgresEvtLog.create({
        connectionString: DATABASE_URL,
        schema,
        table: "Order",
        maxConnections: 2,
      });
      await log.persist("setup", "x", 0, [evt("1")]);
      expect(log.eventsTable).toBe(`"${schema}"."Order"`);
      await log.close();
      const pool = await testPool(1);
      const rows = await pool.query(`SELECT type, id, seq_no FROM "${schema}"."Order"`);
      await pool.end();
      expect(rows.rows).toEqual([{ type: "setup", id: "x", seq_no: "1" }]);
    } finally {
      await dropSchema(schema);
    }
  });

  it("rejects schema and table names that are not plain identifiers", async () => {
    await expect(
      PostgresEvtLog.create({ connectionString: DATABASE_URL, schema: "a.b" }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      PostgresEvtLog.create({ connectionString: DATABASE_URL, table: 'x"y' }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    // 46 characters: the index name would exceed PostgreSQL's 63; the message names the table, not the index.
    const long = await PostgresEvtLog.create({ connectionString: DATABASE_URL, table: "t".repeat(46) }).catch(
      (e: unknown) => e,
    );
    expect(long).toBeInstanceOf(InvalidArgumentError);
    expect((long as Error).message).toMatch(/^invalid table name .*at most 45 characters/);
    // Node.js fires a timer of more than 2^31 - 1 ms after 1 ms: a near-infinite poll would be a busy loop.
    await expect(
      PostgresEvtLog.create({ connectionString: DATABASE_URL, pollIntervalMs: 3e9 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("accepts a table name of 45 characters, the longest whose derived names fit", async () => {
    const schema = uniqueSchemaName("long_table");
    try {
      const log = await PostgresEvtLog.create({
        connectionString: DATABASE_URL,
        schema,
        table: "t".repeat(45),
        logger: silentLogger,
      });
      expect((await log.persist("counter", "a", 0, [{ bytes: new Uint8Array([1]) }])).seqNo).toBe(1);
      await log.close();
    } finally {
      await dropSchema(schema);
    }
  });

  it("reports a setup the server refuses as ConfigurationError naming the SQLSTATE, for the log and the snapshot store", async () => {
    const schema = uniqueSchemaName("setup_refused");
    const pool = await testPool(1);
    try {
      // The version table's name taken by something else: the setup's statements fail on the server.
      await pool.query(`CREATE SCHEMA "${schema}"`);
      await pool.query(`CREATE VIEW "${schema}".eventsourced_schema_version AS SELECT 1 AS x`);
      for (const create of [
        () => PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, maxConnections: 1 }),
        () => PostgresSnapshotStore.create({ connectionString: DATABASE_URL, schema, maxConnections: 1 }),
      ]) {
        const err = await create().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConfigurationError);
        expect((err as ConfigurationError).message).toMatch(/SQLSTATE [0-9A-Z]{5}/);
      }
    } finally {
      await pool.end();
      await dropSchema(schema);
    }
  });

  it("leaves a pool it was given open, and works on it", async () => {
    const schema = uniqueSchemaName("given_pool");
    const pool = await testPool(3);
    try {
      const log = await PostgresEvtLog.create({ pool, maxConnections: 3, schema });
      await log.persist("setup", "x", 0, [evt("1")]);
      await log.close();
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });
});

describe("PostgresEvtLog close", () => {
  it("ends live readers and refuses further persists with PersistError", async () => {
    const schema = uniqueSchemaName("closing");
    try {
      const log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, maxConnections: 2 });
      await log.persist("closing", "x", 0, [evt("1")]);
      const seen: number[] = [];
      const reader = (async () => {
        for await (const r of log.evtsByType("closing", { live: true })) seen.push(r.seqNo);
      })();
      while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await log.close();
      await reader;
      expect(seen).toEqual([1]);
      await expect(log.persist("closing", "x", 1, [evt("2")])).rejects.toBeInstanceOf(PersistError);
    } finally {
      await dropSchema(schema);
    }
  });
});

describe("PostgresEvtLog connection errors", () => {
  it("fails with a ConnectionError naming host, port and database (never the password) when unreachable", async () => {
    const err = await PostgresEvtLog.create({
      connectionString: "postgres://postgres:hunter2-secret@127.0.0.1:1/somedb",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    const connection = err as ConnectionError;
    expect(connection.code).toBe("CONNECTION_FAILED");
    expect(connection.target).toBe("127.0.0.1:1/somedb");
    expect(connection.message).toContain("127.0.0.1:1/somedb");
    expect(connection.message).not.toContain("hunter2-secret");
    expect(connection.target).not.toContain("hunter2-secret");
  });

  it("fails with a ConnectionError when the database does not exist", async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = "/no_such_database_eventsourced";
    const err = await PostgresEvtLog.create({ connectionString: url.toString() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).target).toBe(
      `${url.hostname}:${url.port || "5432"}/no_such_database_eventsourced`,
    );
  });

  it("names the target it can tell: a malformed escape kept as written, no guess for a string that is not a URL", async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = "/%zz";
    const escaped = await PostgresEvtLog.create({ connectionString: url.toString() }).catch(
      (e: unknown) => e,
    );
    expect(escaped).toBeInstanceOf(ConnectionError);
    expect((escaped as ConnectionError).target).toBe(`${url.hostname}:${url.port || "5432"}/%zz`);
    const garbled = await PostgresEvtLog.create({ connectionString: "not a url at all" }).catch(
      (e: unknown) => e,
    );
    expect(garbled).toBeInstanceOf(ConnectionError);
    expect((garbled as ConnectionError).target).toBe("a connection string that is not a URL");
  });

  it("refuses options that are not an object with InvalidArgumentError", async () => {
    await expect(PostgresEvtLog.create(null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
