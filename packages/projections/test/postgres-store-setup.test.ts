import { isEventSourcedError } from "@eventsourced/core";
import { PostgresProjectionStore, PROJECTION_SCHEMA_VERSION } from "@eventsourced/projections/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, namedPool, uniqueSchemaName } from "./support/pg-env.js";

describe("PostgresProjectionStore.create", () => {
  const schema = uniqueSchemaName("proj_setup");
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = await namedPool(`setup-${schema}`, 2);
  });
  afterAll(async () => {
    await pool?.end();
    await dropSchema(schema);
  });

  it("sets its tables up once through the shared versioned setup, however many stores start together", async () => {
    await Promise.all(Array.from({ length: 3 }, () => PostgresProjectionStore.create({ pool, schema })));
    const versions = await pool.query(
      `SELECT component, version FROM "${schema}".eventsourced_schema_version ORDER BY component`,
    );
    expect(versions.rows).toEqual([
      { component: "projections:projections", version: PROJECTION_SCHEMA_VERSION },
    ]);
    expect(PROJECTION_SCHEMA_VERSION).toBe(2); // 2: operator requests (ADR 0106)
  });

  it("rejects an unreachable server with ConnectionError naming host, port and database, never the password", async () => {
    const err = await PostgresProjectionStore.create({
      connectionString: "postgres://user:secret@127.0.0.1:1/nowhere",
    }).catch((e: unknown) => e);
    expect(isEventSourcedError(err, "CONNECTION_FAILED")).toBe(true);
    expect((err as Error).message).toContain("127.0.0.1:1/nowhere");
    expect((err as Error).message).not.toContain("secret");
  });

  it("rejects names that are not plain identifiers and invalid sizes with typed errors, before connecting", async () => {
    await expect(
      PostgresProjectionStore.create({ pool, schema: 'x"; DROP TABLE y; --' }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(PostgresProjectionStore.create({ pool, schema, maxConnections: 0 })).rejects.toMatchObject({
      code: "CONFIGURATION_INVALID",
    });
  });
});
