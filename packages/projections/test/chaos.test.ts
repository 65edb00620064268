import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { Projection } from "@eventsourced/projections";
import { PostgresProjectionStore } from "@eventsourced/projections/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deposited, deposit, depositBinarizer, seededRandom, waitUntil } from "./support/fixtures.js";
import { dropSchema, namedPool, uniqueSchemaName } from "./support/pg-env.js";
import { exactlyOnceVerdict, ReadModel } from "./support/read-model.js";

// The shape of Akka's EventSourcedChaosSpec: seeded random handler failures (2 % of the handler's calls, half
// of them after its writes) and projection stops (2 % of the batches, the instance replaced by a new one) while
// entities write. The read model must equal the fold of the log, with no event applied twice and every
// entity's seqNos contiguous. CHAOS_EVENTS, CHAOS_ENTITIES and CHAOS_SEED change the run.

const EVENTS = Number(process.env.CHAOS_EVENTS ?? 20_000);
const ENTITIES = Number(process.env.CHAOS_ENTITIES ?? 100);
const SEED = Number(process.env.CHAOS_SEED ?? 20_261_130);

describe("projection chaos on PostgreSQL", () => {
  const schema = uniqueSchemaName("chaos");
  let pool: pg.Pool;
  let log: PostgresEvtLog;
  let store: PostgresProjectionStore;

  beforeAll(async () => {
    pool = await namedPool(`chaos-${schema}`, 8);
    log = await PostgresEvtLog.create({ pool, schema, logger: silentLogger, pollIntervalMs: 50 });
    store = await PostgresProjectionStore.create({ pool, schema });
  });
  afterAll(async () => {
    await log?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  it(`${EVENTS} events from ${ENTITIES} entities under 2 % handler failures and 2 % stops: the read model is the fold of the log, nothing applied twice (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const type = "chaos";
    const model = new ReadModel(pool, schema);
    await model.create();
    let injectedFailures = 0;
    let stops = 0;
    let projection: Projection<Deposited>;
    let replacing: Promise<void> | undefined;

    const create = () =>
      Projection.create<Deposited>({
        name: "chaos",
        evtLog: log,
        type,
        binarizer: depositBinarizer,
        handler: model.handler(store, (evts) => {
          if (random() < 0.02) {
            injectedFailures++;
            throw new Error(`injected failure after writing ${evts.length} events`);
          }
          if (random() < 0.02 && replacing === undefined) replacing = replace();
        }),
        batch: { maxEvents: 1 + Math.floor(random() * 40), maxWaitMs: 5 },
        // A random failure must never become a dead letter: after the retries the projection stops, and
        // the supervisor below resumes it, like Akka's restart with backoff.
        onError: { retries: 3, backoff: { initialMs: 1, maxMs: 10 }, exhausted: "stop" },
        retryBackoff: { initialMs: 5, maxMs: 50 },
        logger: silentLogger,
      });

    async function replace(): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, random() * 20));
      stops++;
      await projection.stop();
      projection = create();
      projection.start();
      replacing = undefined;
    }

    projection = create();
    projection.start();
    let supervising = true;
    const supervisor = (async () => {
      while (supervising) {
        if (projection.status.state === "failed" && replacing === undefined) await projection.resume();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const perEntity = Math.ceil(EVENTS / ENTITIES);
    for (let round = 0; round < perEntity; round++) {
      await Promise.all(
        Array.from({ length: ENTITIES }, (_, e) =>
          round * ENTITIES + e < EVENTS
            ? log.persist(type, `e${e}`, round, [deposit(1 + ((e * 7 + round) % 13))])
            : undefined,
        ),
      );
    }
    const head = (await log.headOfType(type))!.position;
    await waitUntil(
      () => projection.status.position >= head && replacing === undefined,
      "the projection to catch up",
      240_000,
    );
    supervising = false;
    await supervisor;
    await projection.stop();

    const verdict = await exactlyOnceVerdict(model, log, type);
    expect(verdict).toEqual({
      events: EVENTS,
      missing: 0,
      duplicated: 0,
      foreign: 0,
      gaps: 0,
      wrongTotals: 0,
    });
    // The chaos did happen.
    expect(injectedFailures).toBeGreaterThan(0);
    expect(stops).toBeGreaterThan(0);
    console.info(
      `chaos seed ${SEED}: ${EVENTS} events, ${injectedFailures} injected handler failures, ${stops} stops`,
    );
  }, 300_000);
});
