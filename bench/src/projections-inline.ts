// The inline-projection scenario of the projections benchmark (projections.bench.ts): its cost on the write path.
import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { inlineProjection, inlineProjections } from "@eventsourced/projections/postgres";
import { spread } from "./measure.js";
import {
  type Amount,
  amounts,
  binarizer,
  EVENT,
  ids,
  type ProjectionsBench,
  upsertTotals,
} from "./projections-support.js";
import type { ResultRow } from "./results.js";

/** (4) persists per second with an inline projection against the same log without one. */
export async function inlineCost(c: ProjectionsBench): Promise<ResultRow> {
  const withInline: number[] = [];
  const without: number[] = [];
  for (let round = 0; round < c.rounds; round++) {
    for (const inline of round % 2 === 0 ? [true, false] : [false, true]) {
      (inline ? withInline : without).push(await persistRate(c, inline));
    }
  }
  const s = spread(withInline);
  const base = spread(without).value;
  return {
    scenario: "inline projection (upsert per batch), 100 entities writing (PostgreSQL)",
    metric: "persists/s",
    unit: "persists/s",
    ...s,
    baseline: base,
    ratio: s.value / base,
  };
}

async function persistRate(c: ProjectionsBench, inline: boolean): Promise<number> {
  const { pool } = c;
  const schema = c.fresh("inline");
  await pool.query(
    `CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".totals (id text PRIMARY KEY, total bigint NOT NULL)`,
  );
  const view = inlineProjection<Amount>({
    name: "totals",
    type: "acct",
    binarizer,
    handle: (evts, tx) => upsertTotals(tx, `"${schema}".totals`, ids(evts), amounts(evts)),
  });
  const log = await PostgresEvtLog.create({
    connectionString: c.databaseUrl,
    schema,
    logger: silentLogger,
    ...(inline ? { inTransaction: inlineProjections(view) } : {}),
  });
  const deadline = performance.now() + c.inlineMs;
  let done = 0;
  await Promise.all(
    Array.from({ length: 100 }, async (_, e) => {
      for (let seqNo = 0; performance.now() < deadline; seqNo++) {
        await log.persist("acct", `e${e}`, seqNo, [EVENT]);
        done++;
      }
    }),
  );
  await log.close();
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  return done / (c.inlineMs / 1000);
}
