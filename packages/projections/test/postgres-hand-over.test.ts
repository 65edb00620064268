import { PostgresProjectionStore } from "@eventsourced/projections/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handOverDyingConnection } from "../../evtlog-postgres/test/dying-hand-over.js";
import { dropSchema, namedPool, uniqueSchemaName } from "./support/pg-env.js";

// A backend terminated as the pool hands its connection to a projection transaction: the connection's
// `error` must be heard (an unheard one crashes the process), that transaction must fail (the projection
// retries it), and the next one must get a fresh connection.
describe("a projection transaction whose connection dies as the pool hands it over", () => {
  const schema = uniqueSchemaName("proj_handover");
  let pool: pg.Pool;
  let admin: pg.Pool;
  let store: PostgresProjectionStore;

  beforeAll(async () => {
    pool = await namedPool(`handover-${schema}`, 1);
    admin = await namedPool(`handover-${schema}-admin`, 1);
    store = await PostgresProjectionStore.create({ pool, schema });
  });
  afterAll(async () => {
    await pool?.end();
    await admin?.end();
    await dropSchema(schema);
  });

  it("hears the error, fails that transaction, and runs the next one on a fresh connection", async () => {
    const held = await pool.connect();
    let ran = false;
    const transaction = store
      .transaction(async (tx) => {
        ran = true;
        return tx.query("SELECT 1");
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    const heard = await handOverDyingConnection(pool, held, admin);
    expect(heard.every((listened) => listened)).toBe(true);
    expect(await transaction).toBeInstanceOf(Error);
    expect(ran).toBe(false);
    const next = await store.transaction(async (tx) => (await tx.query("SELECT 2 AS two")).rows[0]);
    expect(next).toEqual({ two: 2 });
  });
});
