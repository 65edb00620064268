import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

const evt = (text: string) => ({ bytes: new TextEncoder().encode(text) });
const ids = (prefix: string) => Array.from({ length: 50 }, (_, i) => `${prefix}${i}`);

/**
 * Two waves of 50 entities, as a registry recovering entities on their first command produces them: wave A's
 * batch is in flight (held by a trigger) when wave B's persists arrive, fewer than a second lane starts for.
 * When A's batch commits, each A caller persists its next event a few promise reactions later. That next
 * batch must take B's waiting persists and A's returning ones together (100); started at once it took B's
 * alone and A's went next, and the two halves kept alternating for as long as the callers went on.
 */
describe("PostgresEvtLog group commit after a batch commits while others wait", () => {
  const schema = uniqueSchemaName("after_replies");
  let log: PostgresEvtLog;

  beforeAll(async () => {
    log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 4,
      logger: silentLogger,
    });
    const pool = await testPool(1);
    // Holds the transaction that writes entity "slow" for 300 ms, so that its batch is surely in flight.
    await pool.query(`CREATE FUNCTION "${schema}".stall() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = 'slow' THEN PERFORM pg_sleep(0.3); END IF; RETURN NULL; END $$`);
    await pool.query(`CREATE TRIGGER stall AFTER INSERT ON "${schema}".events
      FOR EACH ROW EXECUTE FUNCTION "${schema}".stall()`);
    await pool.end();
  });
  afterAll(async () => {
    await log?.close();
    await dropSchema(schema);
  });

  it("writes the waiting persists together with those its callers issue in reaction", async () => {
    const before = log.stats;
    // Wave A and the slow entity: one batch, in flight for 300 ms.
    const waveA = [...ids("a"), "slow"].map((id) =>
      log.persist("wave", id, 0, [evt(`${id}-1`)]).then(async () => {
        // The caller's next command, a few reactions later (as through an entity and a registry).
        await null;
        await null;
        if (id !== "slow") await log.persist("wave", id, 1, [evt(`${id}-2`)]);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Wave B arrives while A's batch is in flight: 50 wait, too few for a second lane.
    const waveB = ids("b").map((id) => log.persist("wave", id, 0, [evt(`${id}-1`)]));
    await Promise.all([...waveA, ...waveB]);

    const stats = log.stats;
    expect(stats.persists - before.persists).toBe(51 + 50 + 50);
    // A's batch (51), then B's waiting persists and A's second ones together.
    expect(stats.batches - before.batches).toBe(2);
    expect(stats.maxBatch).toBe(100);
    expect(await log.lastSeqNo("wave", "a7")).toBe(2);
    expect(await log.lastSeqNo("wave", "b7")).toBe(1);
  });
});
