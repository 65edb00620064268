import { InvalidArgumentError } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

const evt = { bytes: new Uint8Array([1]) };

describe("PostgresEvtLog.entityIds", () => {
  const schema = uniqueSchemaName("entity_ids");
  let pool: pg.Pool;
  let log: PostgresEvtLog;

  beforeAll(async () => {
    pool = await testPool(3);
    log = await PostgresEvtLog.create({ pool, maxConnections: 3, schema });
    for (const id of ["b", "a", "c d", "é"]) await log.persist("account", id, 0, [evt]);
    await log.persist("other", "x", 0, [evt]);
  });
  afterAll(async () => {
    await log?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  it("lists the ids of one type in ascending order", async () => {
    const ids = await log.entityIds("account");
    expect(ids.slice(0, 3)).toEqual(["a", "b", "c d"]);
    expect([...ids].sort()).toEqual(["a", "b", "c d", "é"]);
    expect(await log.entityIds("other")).toEqual(["x"]);
    expect(await log.entityIds("none")).toEqual([]);
  });

  it("pages with after and limit", async () => {
    expect(await log.entityIds("account", { limit: 2 })).toEqual(["a", "b"]);
    expect(await log.entityIds("account", { after: "b", limit: 1 })).toEqual(["c d"]);
  });

  it("lists an entity whose events were deleted (its head remains)", async () => {
    await log.persist("gone", "g", 0, [evt]);
    await log.deleteEvts("gone", "g", 1);
    expect(await log.entityIds("gone")).toEqual(["g"]);
  });

  it("refuses a bad type or limit with InvalidArgumentError", async () => {
    await expect(log.entityIds("no spaces")).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log.entityIds("account", { limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
