// Shared by the projections benchmark's scenarios: the event, the read model, the raw baselines.
import { jsonBinarizer } from "@eventsourced/core";
import type { ProjectedEvt, ProjectionHandler } from "@eventsourced/projections";
import type { PgClientLike } from "@eventsourced/projections/postgres";
import type pg from "pg";

export type Amount = { readonly amount: number };
export const binarizer = jsonBinarizer<Amount, unknown>();
export const EVENT = { bytes: binarizer.evtToBytes({ amount: 1 }), contentType: binarizer.contentType };

/** The read model of every scenario: a running total per entity. */
export async function upsertTotals(
  q: PgClientLike | pg.PoolClient,
  table: string,
  ids: string[],
  amounts: number[],
) {
  await q.query(
    `INSERT INTO ${table} AS t (id, total) SELECT id, sum(a) FROM unnest($1::text[], $2::int8[]) AS e(id, a) GROUP BY id
     ON CONFLICT (id) DO UPDATE SET total = t.total + EXCLUDED.total`,
    [ids, amounts],
  );
}

export const ids = (evts: readonly ProjectedEvt<Amount>[]) => evts.map((e) => e.id);
export const amounts = (evts: readonly ProjectedEvt<Amount>[]) => evts.map((e) => e.evt.amount);

/** The hand-written exactly-once loop: a page of 500, the upsert and the checkpoint in one transaction. */
export async function rawExactlyOnce(
  pool: pg.Pool,
  schema: string,
  totals: string,
  events: number,
): Promise<number> {
  const client = await pool.connect();
  const name = `raw_checkpoint_${Date.now().toString(36)}`;
  await client.query(`CREATE TABLE "${schema}".${name} (position bigint NOT NULL)`);
  await client.query(`INSERT INTO "${schema}".${name} VALUES (0)`);
  const t0 = performance.now();
  let after = 0;
  for (;;) {
    const res = await client.query(
      `SELECT position, id, bytes FROM "${schema}".events WHERE type = 'acct' AND position > $1 ORDER BY position LIMIT 500`,
      [after],
    );
    if (res.rows.length === 0) break;
    const rows = res.rows as { position: string; id: string; bytes: Buffer }[];
    await client.query("BEGIN");
    await upsertTotals(
      client,
      totals,
      rows.map((r) => r.id),
      rows.map((r) => (JSON.parse(r.bytes.toString()) as Amount).amount),
    );
    const last = Number(rows.at(-1)!.position);
    await client.query(`UPDATE "${schema}".${name} SET position = $1 WHERE position = $2`, [last, after]);
    await client.query("COMMIT");
    after = last;
  }
  const seconds = (performance.now() - t0) / 1000;
  client.release();
  return events / seconds;
}

/** A raw replay: the same events in pages of 1,000, each decoded. */
export async function rawReplay(pool: pg.Pool, schema: string, events: number): Promise<number> {
  const t0 = performance.now();
  let after = 0;
  let sum = 0;
  for (;;) {
    const res = await pool.query(
      `SELECT position, id, seq_no, bytes FROM "${schema}".events WHERE type = 'acct' AND position > $1 ORDER BY position LIMIT 1000`,
      [after],
    );
    if (res.rows.length === 0) break;
    for (const row of res.rows as { bytes: Buffer }[])
      sum += (JSON.parse(row.bytes.toString()) as Amount).amount;
    after = Number((res.rows.at(-1) as { position: string }).position);
  }
  if (sum !== events) throw new Error(`raw replay read ${sum} events, expected ${events}`);
  return events / ((performance.now() - t0) / 1000);
}

/** Wraps a handler to note when each batch's events were committed (wall clock). */
export function timed(
  inner: ProjectionHandler<Amount>,
  committed: Map<number, number>,
): ProjectionHandler<Amount> {
  return {
    guarantee: inner.guarantee,
    store: inner.store,
    get storedPosition() {
      return inner.storedPosition;
    },
    begin: (fence) => inner.begin(fence),
    apply: async (evts, advance) => {
      await inner.apply(evts, advance);
      const at = performance.timeOrigin + performance.now();
      for (const e of evts) committed.set(e.position, at);
    },
    flush: () => inner.flush(),
    rebuild: () => inner.rebuild(),
    redrive: (evt, letter) => inner.redrive(evt, letter),
    end: () => inner.end(),
  };
}

/** What every scenario of the projections benchmark shares: the run's sizes, servers and naming. */
export interface ProjectionsBench {
  /** An admin pool (setup, teardown, the raw baselines). */
  readonly pool: pg.Pool;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly rounds: number;
  /** Events of the backlog scenarios. */
  readonly backlog: number;
  readonly lagRate: number;
  /** Seconds of writing whose events the lag figures count, after `lagWarmupSeconds` that they do not. */
  readonly lagSeconds: number;
  /**
   * Seconds of writing at the same rate before the measured ones, for ours and the raw tail alike: without it
   * the p99 measured mostly how long the reader's code took to warm up (interpreted and not yet optimised,
   * a few hundred ms after the first events), as a closed loop's warm-up keeps that out of its figures.
   */
  readonly lagWarmupSeconds: number;
  readonly inlineMs: number;
  /** `batch.maxEvents` of the projections; `undefined`: the package's default. */
  readonly batch: number | undefined;
  /** A schema, stream or projection name unique to this run. */
  fresh(label: string): string;
  progress(what: string): void;
}
