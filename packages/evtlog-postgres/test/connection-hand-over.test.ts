import { EventSourcedError, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { checkOut } from "@eventsourced/evtlog-postgres/internal";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handOverDyingConnection } from "./dying-hand-over.js";
import { dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

const evt = (text: string) => ({ bytes: new TextEncoder().encode(text) });

// A backend terminated as the pool hands its connection to the committer: the connection's `error` must
// be heard (an unheard one crashes the process), the persist must fail as a typed error, and the next
// persist must get a fresh connection.
describe("a connection dying as the pool hands it over", () => {
  const schema = uniqueSchemaName("handover");
  let pool: pg.Pool;
  let admin: pg.Pool;
  let log: PostgresEvtLog;

  beforeAll(async () => {
    pool = await testPool(1);
    admin = await testPool(1);
    log = await PostgresEvtLog.create({ pool, maxConnections: 1, schema, logger: silentLogger });
  });
  afterAll(async () => {
    await log?.close();
    await pool?.end();
    await admin?.end();
    await dropSchema(schema);
  });

  it("is heard by the committer, fails that persist with a typed error, and the next persist succeeds", async () => {
    const held = await pool.connect();
    const persisting = log.persist("handover", "a", 0, [evt("one")]).then(
      () => undefined,
      (err: unknown) => err,
    );
    const heard = await handOverDyingConnection(pool, held, admin);
    expect(heard.every((listened) => listened)).toBe(true);
    const failure = await persisting;
    expect(failure).toBeInstanceOf(EventSourcedError);
    console.info(
      `persist on the dead connection: ${(failure as EventSourcedError).code}: ${(failure as Error).message}`,
    );
    await log.persist("handover", "b", 0, [evt("two")]);
    expect(await log.lastSeqNo("handover", "b")).toBe(1);
  });

  it("checkOut also serves a pool-like whose connect only returns a promise, listening from the start", async () => {
    const listeners: string[] = [];
    const client = { on: (event: "error") => listeners.push(event) };
    const promiseOnly = { connect: () => Promise.resolve(client) };
    expect(await checkOut(promiseOnly, () => {})).toBe(client);
    expect(listeners).toEqual(["error"]);
    await expect(checkOut({ connect: () => Promise.reject(new Error("refused")) }, () => {})).rejects.toThrow(
      "refused",
    );
  });
});
