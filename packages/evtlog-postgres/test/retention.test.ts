import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

const evt = (text: string) => ({ bytes: new TextEncoder().encode(text) });

describe("PostgresEvtLog retention", () => {
  let admin: pg.Pool;
  const schemas: string[] = [];

  beforeAll(async () => {
    admin = await testPool(2);
  });
  afterAll(async () => {
    await admin?.end();
    for (const schema of schemas) await dropSchema(schema);
  });

  it("migrates a version 1 log to the current version: existing events and heads stay, deleted_to starts at 0, old rows have no xid", async () => {
    const schema = uniqueSchemaName("retention_v1");
    schemas.push(schema);
    // The tables and bookkeeping exactly as version 1 created them, with one entity of three events.
    await admin.query(`CREATE SCHEMA "${schema}";
      CREATE TABLE "${schema}"."eventsourced_schema_version" (
        component text PRIMARY KEY, version integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO "${schema}"."eventsourced_schema_version" (component, version) VALUES ('evtlog:events', 1);
      CREATE TABLE "${schema}"."events" (
        position bigint GENERATED ALWAYS AS IDENTITY, type text NOT NULL, id text NOT NULL,
        seq_no bigint NOT NULL CHECK (seq_no > 0), recorded_at timestamptz NOT NULL DEFAULT now(),
        content_type text, metadata jsonb, bytes bytea NOT NULL,
        CONSTRAINT "events_pkey" PRIMARY KEY (type, id, seq_no));
      CREATE INDEX "events_type_position_idx" ON "${schema}"."events" (type, position);
      CREATE TABLE "${schema}"."events_streams" (
        type text NOT NULL, id text NOT NULL, last_seq_no bigint NOT NULL CHECK (last_seq_no > 0),
        PRIMARY KEY (type, id)) WITH (fillfactor = 50);
      INSERT INTO "${schema}"."events" (type, id, seq_no, bytes) VALUES
        ('old', 'e', 1, '\\x61'), ('old', 'e', 2, '\\x62'), ('old', 'e', 3, '\\x63');
      INSERT INTO "${schema}"."events_streams" (type, id, last_seq_no) VALUES ('old', 'e', 3);`);
    const log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 2,
      logger: silentLogger,
    });
    try {
      expect(await log.lastSeqNo("old", "e")).toBe(3);
      expect(await log.deletedTo("old", "e")).toBe(0);
      expect(await log.deleteEvts("old", "e", 2)).toEqual({ deletedTo: 2, removed: 2 });
      expect((await log.persist("old", "e", 3, [evt("d")])).seqNo).toBe(4);
      const heads = await admin.query(`SELECT last_seq_no, deleted_to FROM "${schema}".events_streams`);
      expect(heads.rows).toEqual([{ last_seq_no: "4", deleted_to: "2" }]);
      const version = await admin.query(
        `SELECT version FROM "${schema}".eventsourced_schema_version WHERE component = 'evtlog:events'`,
      );
      expect(version.rows).toEqual([{ version: 3 }]);
      // Version 3: rows written before it have no transaction id and read as settled; new rows have one.
      const xids = await admin.query(
        `SELECT seq_no::int, xid IS NOT NULL AS has_xid FROM "${schema}".events ORDER BY seq_no`,
      );
      expect(xids.rows).toEqual([
        { seq_no: 3, has_xid: false },
        { seq_no: 4, has_xid: true },
      ]);
      const byType: number[] = [];
      for await (const r of log.evtsByType("old")) byType.push(r.seqNo);
      expect(byType).toEqual([3, 4]);
    } finally {
      await log.close();
    }
  });

  it("records how far deletion got on the head, which survives deleting every event", async () => {
    const schema = uniqueSchemaName("retention_head");
    schemas.push(schema);
    const log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, maxConnections: 2 });
    try {
      await log.persist("h", "x", 0, [evt("1"), evt("2"), evt("3")]);
      expect(await log.deleteEvts("h", "x", 10)).toEqual({ deletedTo: 3, removed: 3 });
      const rows = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".events`);
      expect(rows.rows).toEqual([{ n: 0 }]);
      const heads = await admin.query(`SELECT last_seq_no, deleted_to FROM "${schema}".events_streams`);
      expect(heads.rows).toEqual([{ last_seq_no: "3", deleted_to: "3" }]);
    } finally {
      await log.close();
    }
  });
});
