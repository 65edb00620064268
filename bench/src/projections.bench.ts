/**
 * Projections benchmark (`npm run bench:projections [-- --quick]`): @eventsourced/projections against raw `pg`
 * and raw JetStream, measured in the same run, rounds interleaved so machine drift hits both sides alike.
 *
 * Scenarios: (1) exactly-once on PostgreSQL with an upsert handler over a backlog vs a hand-written loop
 * (page, upsert, checkpoint in one transaction); (2) rebuild with a no-op handler vs a raw replay of the same
 * events; (3) lag (persist acknowledged -> read model committed) at 10,000 events/s on PostgreSQL and on NATS,
 * each beside the raw tail (INSERT + NOTIFY / LISTEN + query; publish / ordered consumer); (4) the cost of an
 * inline projection on the write path.
 */

import { quick } from "./measure.js";
import { backlogScenarios } from "./projections-backlog.js";
import { inlineCost } from "./projections-inline.js";
import { lag, lagRows } from "./projections-lag-run.js";
import type { ProjectionsBench } from "./projections-support.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";
import { checkedPool, DATABASE_URL, NATS_URL } from "./service-versions.js";

/** `PROJECTIONS_BENCH=lag-pg,lag-nats` runs only those scenarios (backlog, lag-pg, lag-nats, inline). */
const SELECTED = process.env.PROJECTIONS_BENCH?.split(",");
const only = (scenario: string) => SELECTED === undefined || SELECTED.includes(scenario);
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;
let counter = 0;

async function main(): Promise<void> {
  const pool = await checkedPool(8);
  const c: ProjectionsBench = {
    pool,
    databaseUrl: DATABASE_URL,
    natsUrl: NATS_URL,
    rounds: quick ? 1 : 3,
    backlog: quick ? 20_000 : 100_000,
    lagRate: 10_000,
    lagSeconds: quick ? 2 : 6,
    lagWarmupSeconds: quick ? 0.5 : 2,
    inlineMs: quick ? 1_000 : 3_000,
    // `PROJECTIONS_BATCH=500` overrides the projections' `batch.maxEvents` (default: the package's).
    batch: process.env.PROJECTIONS_BATCH === undefined ? undefined : Number(process.env.PROJECTIONS_BATCH),
    fresh: (label) => `bench_proj_${label}_${RUN_ID}_${counter++}`,
    progress: (what) => console.error(`[projections] ${new Date().toISOString().slice(11, 19)} ${what}`),
  };
  const rows: ResultRow[] = [];
  try {
    c.progress(`backlog of ${c.backlog} events: exactly-once and rebuild, ${c.rounds} round(s)`);
    if (only("backlog")) rows.push(...(await backlogScenarios(c)));
    c.progress(`lag at ${c.lagRate} events/s on PostgreSQL`);
    if (only("lag-pg")) {
      const oursPg = await lag(c, "pg", "ours");
      const rawPg = await lag(c, "pg", "raw");
      rows.push(...lagRows(c, "PostgreSQL", oursPg, rawPg, "read model committed"));
    }
    c.progress(`lag at ${c.lagRate} events/s on NATS`);
    if (only("lag-nats")) {
      const oursNats = await lag(c, "nats", "ours");
      const rawNats = await lag(c, "nats", "raw");
      rows.push(
        ...lagRows(c, "NATS log, read model in PostgreSQL", oursNats, rawNats, "read model committed"),
      );
    }
    c.progress("inline projection cost");
    if (only("inline")) rows.push(await inlineCost(c));
  } finally {
    await pool.end();
  }
  writeResults("projections", rows, machineFacts());
}

await main();
