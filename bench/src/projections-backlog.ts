// The backlog scenarios of the projections benchmark (projections.bench.ts): a backlog in PostgreSQL.
import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { Projection, type ProjectionHandler } from "@eventsourced/projections";
import { exactlyOnce, PostgresProjectionStore } from "@eventsourced/projections/postgres";
import { spread } from "./measure.js";
import {
  type Amount,
  amounts,
  binarizer,
  EVENT,
  ids,
  type ProjectionsBench,
  rawExactlyOnce,
  rawReplay,
  upsertTotals,
} from "./projections-support.js";
import type { ResultRow } from "./results.js";

const BACKLOG_ENTITIES = 1_000;

/** Runs `projection` from position 0 to the log's head; resolves to events per second. */
async function drain(c: ProjectionsBench, projection: Projection<Amount>, head: number): Promise<number> {
  const t0 = performance.now();
  projection.start();
  await projection.waitFor(head);
  const seconds = (performance.now() - t0) / 1000;
  await projection.stop();
  return c.backlog / seconds;
}

/**
 * (1) exactly-once with an upsert handler over a backlog, against a hand-written loop (page, upsert,
 * checkpoint in one transaction); (2) rebuild with a no-op handler against a raw replay of the same events.
 */
export async function backlogScenarios(c: ProjectionsBench): Promise<ResultRow[]> {
  const { pool } = c;
  const schema = c.fresh("backlog");
  const log = await PostgresEvtLog.create({ pool, schema, logger: silentLogger });
  const store = await PostgresProjectionStore.create({ pool, schema });
  const totals = `"${schema}".totals`;
  await pool.query(`CREATE TABLE ${totals} (id text PRIMARY KEY, total bigint NOT NULL)`);
  for (let round = 0; round * BACKLOG_ENTITIES < c.backlog; round++) {
    await Promise.all(
      Array.from({ length: BACKLOG_ENTITIES }, (_, e) => log.persist("acct", `e${e}`, round, [EVENT])),
    );
  }
  // As a log that has been running has: statistics (the other suites' replays analyze too). The log's own
  // reads do not depend on them (ADR 0122); the raw baselines' plain LIMIT queries would sort every
  // remaining row per page without them, until autovacuum happened to analyze the table mid-run.
  await pool.query(`ANALYZE "${schema}".events`);
  const head = (await log.headOfType("acct"))!.position;
  const make = (handler: ProjectionHandler<Amount>) =>
    Projection.create<Amount>({
      name: c.fresh("p"),
      evtLog: log,
      type: "acct",
      binarizer,
      handler,
      ...(c.batch === undefined ? {} : { batch: { maxEvents: c.batch } }),
      logger: silentLogger,
    });
  const upsert = exactlyOnce<Amount>(store, {
    handle: (evts, tx) => upsertTotals(tx, totals, ids(evts), amounts(evts)),
  });
  const noop = exactlyOnce<Amount>(store, { handle: async () => {} });
  const eo: number[] = [];
  const rawEo: number[] = [];
  const rebuild: number[] = [];
  const replay: number[] = [];
  c.progress(`backlog written (head ${head})`);
  for (let round = 0; round < c.rounds; round++) {
    await pool.query(`TRUNCATE ${totals}`);
    eo.push(await drain(c, make(upsert), head));
    await pool.query(`TRUNCATE ${totals}`);
    rawEo.push(await rawExactlyOnce(pool, schema, totals, c.backlog));
    rebuild.push(await drain(c, make(noop), head));
    replay.push(await rawReplay(pool, schema, c.backlog));
  }
  await log.close();
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  const eoS = spread(eo);
  const rebuildS = spread(rebuild);
  return [
    {
      scenario: `exactly-once, upsert handler, ${c.backlog.toLocaleString("en-US")}-event backlog (PostgreSQL)`,
      metric: "events/s",
      unit: "events/s",
      ...eoS,
      baseline: spread(rawEo).value,
      ratio: eoS.value / spread(rawEo).value,
    },
    {
      scenario: `rebuild, no-op handler, ${c.backlog.toLocaleString("en-US")} events (PostgreSQL)`,
      metric: "events/s",
      unit: "events/s",
      ...rebuildS,
      baseline: spread(replay).value,
      ratio: rebuildS.value / spread(replay).value,
    },
  ];
}
