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

/** Writes the backlog (`c.backlog` events of type `acct`, 1,000 entities) to `log`; resolves to the head position. */
async function writeBacklog(c: ProjectionsBench, log: PostgresEvtLog): Promise<number> {
  for (let round = 0; round * BACKLOG_ENTITIES < c.backlog; round++) {
    await Promise.all(
      Array.from({ length: BACKLOG_ENTITIES }, (_, e) => log.persist("acct", `e${e}`, round, [EVENT])),
    );
  }
  return (await log.headOfType("acct"))!.position;
}

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
 * checkpoint in one transaction); (2) rebuild with a no-op handler against a raw replay of the same events;
 * (3) the same rebuild of a second log whose table never got statistics (a new log before autovacuum's first
 * ANALYZE, or one that grew by a bulk load), against the same raw replay: the log's reads must not depend on
 * them (ADR 0122: without its guard every page sorted the rest of the type). Rounds interleave all of them.
 */
export async function backlogScenarios(c: ProjectionsBench): Promise<ResultRow[]> {
  const { pool } = c;
  const schema = c.fresh("backlog");
  const log = await PostgresEvtLog.create({ pool, schema, logger: silentLogger });
  const store = await PostgresProjectionStore.create({ pool, schema });
  const totals = `"${schema}".totals`;
  await pool.query(`CREATE TABLE ${totals} (id text PRIMARY KEY, total bigint NOT NULL)`);
  const head = await writeBacklog(c, log);
  const freshSchema = c.fresh("fresh");
  const freshLog = await PostgresEvtLog.create({ pool, schema: freshSchema, logger: silentLogger });
  // Never analyzed: autovacuum must not add statistics mid-run either.
  await pool.query(`ALTER TABLE "${freshSchema}".events SET (autovacuum_enabled = false)`);
  const freshHead = await writeBacklog(c, freshLog);
  // As a log that has been running has: statistics (the other suites' replays analyze too). The log's own
  // reads do not depend on them (ADR 0122); the raw baselines' plain LIMIT queries would sort every
  // remaining row per page without them, until autovacuum happened to analyze the table mid-run.
  await pool.query(`ANALYZE "${schema}".events`);
  const make = (handler: ProjectionHandler<Amount>, evtLog = log) =>
    Projection.create<Amount>({
      name: c.fresh("p"),
      evtLog,
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
  const freshRebuild: number[] = [];
  c.progress(`backlog written (head ${head})`);
  for (let round = 0; round < c.rounds; round++) {
    await pool.query(`TRUNCATE ${totals}`);
    eo.push(await drain(c, make(upsert), head));
    await pool.query(`TRUNCATE ${totals}`);
    rawEo.push(await rawExactlyOnce(pool, schema, totals, c.backlog));
    rebuild.push(await drain(c, make(noop), head));
    replay.push(await rawReplay(pool, schema, c.backlog));
    freshRebuild.push(await drain(c, make(noop, freshLog), freshHead));
  }
  await log.close();
  await freshLog.close();
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  await pool.query(`DROP SCHEMA "${freshSchema}" CASCADE`);
  const eoS = spread(eo);
  const rebuildS = spread(rebuild);
  const freshS = spread(freshRebuild);
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
    {
      scenario: `rebuild, no-op handler, ${c.backlog.toLocaleString("en-US")} events, table without statistics (PostgreSQL)`,
      metric: "events/s",
      unit: "events/s",
      ...freshS,
      baseline: spread(replay).value,
      ratio: freshS.value / spread(replay).value,
    },
  ];
}
