import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { Projection } from "@eventsourced/projections";
import { PostgresProjectionStore } from "@eventsourced/projections/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deposited, deposit, depositBinarizer, waitUntil } from "./support/fixtures.js";
import { DATABASE_URL, dropSchema, namedPool, uniqueSchemaName } from "./support/pg-env.js";
import { exactlyOnceVerdict, ReadModel } from "./support/read-model.js";

// The classic projection bug (Emmett#336, Marten 9.16.1): a reader resumes after a position whose earlier
// neighbour was still uncommitted and skips it for good. Eight writers (separate logs: separate committers and
// connections, as separate processes would have) write while a trigger keeps some transactions open after
// they took their positions; the live projection must still apply every event exactly once.

const WRITERS = 8;
const ROUNDS = 15;

describe("a projection over eight concurrent PostgreSQL writers with late commits", () => {
  const schema = uniqueSchemaName("gapproj");
  let pool: pg.Pool;
  const writers: PostgresEvtLog[] = [];
  let reader: PostgresEvtLog;

  beforeAll(async () => {
    pool = await namedPool(`gapproj-${schema}`, 6);
    reader = await PostgresEvtLog.create({ pool, schema, logger: silentLogger, pollIntervalMs: 20 });
    for (let i = 0; i < WRITERS; i++) {
      writers.push(
        await PostgresEvtLog.create({
          connectionString: DATABASE_URL,
          schema,
          maxConnections: 2,
          setup: false,
          logger: silentLogger,
        }),
      );
    }
    // Transactions writing an entity whose id ends in "-slow" stay open a while after taking their positions.
    await pool.query(`CREATE FUNCTION "${schema}".stall() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id LIKE '%-slow' THEN PERFORM pg_sleep(0.005 + random() * 0.02); END IF; RETURN NULL; END $$`);
    await pool.query(`CREATE TRIGGER stall AFTER INSERT ON "${schema}".events
      FOR EACH ROW EXECUTE FUNCTION "${schema}".stall()`);
  });
  afterAll(async () => {
    await Promise.all(writers.map((w) => w.close()));
    await reader?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  it("applies every event exactly once although transactions commit out of position order", async () => {
    const type = "gap";
    const model = new ReadModel(pool, schema);
    await model.create();
    const store = await PostgresProjectionStore.create({ pool, schema });
    const projection = Projection.create<Deposited>({
      name: "gap",
      evtLog: reader,
      type,
      binarizer: depositBinarizer,
      handler: model.handler(store),
      batch: { maxEvents: 50, maxWaitMs: 2 },
      logger: silentLogger,
    });
    projection.start();
    try {
      await Promise.all(
        writers.map(async (writer, w) => {
          for (let round = 0; round < ROUNDS; round++) {
            await Promise.all(
              [`w${w}-a`, `w${w}-b`, `w${w}-slow`].map((id) =>
                writer.persist(type, id, round, [deposit(round + 1)]),
              ),
            );
          }
        }),
      );
      const head = (await reader.headOfType(type))!.position;
      await waitUntil(() => projection.status.position >= head, "the projection to catch up", 60_000);
    } finally {
      await projection.stop();
    }
    expect(await exactlyOnceVerdict(model, reader, type)).toEqual({
      events: WRITERS * 3 * ROUNDS,
      missing: 0,
      duplicated: 0,
      foreign: 0,
      gaps: 0,
      wrongTotals: 0,
    });
  }, 120_000);
});
