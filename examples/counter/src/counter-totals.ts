import { type EvtLog, type Logger, silentLogger } from "@eventsourced/core";
import { type ProjectedEvt, Projection, type ProjectionLag } from "@eventsourced/projections";
import { exactlyOnce, type PgPoolLike, PostgresProjectionStore } from "@eventsourced/projections/postgres";
import { COUNTER_TYPE_NAME } from "./counter.js";
import { type CounterBinarizerKind, counterBinarizer } from "./counter-binarizer.js";
import type { CounterEvt } from "./generated/counter.js";

/** Options of {@link startCounterTotals}. */
export interface CounterTotalsOptions {
  readonly evtLog: EvtLog;
  /** The pool of the database holding the log (the embedded server's pool of one works too). */
  readonly pool: PgPoolLike;
  readonly schema: string;
  readonly binarizer: CounterBinarizerKind;
  readonly logger?: Logger | undefined;
}

/** The `counter_totals` projection of a run, with what the report prints about it. */
export interface CounterTotals {
  readonly projection: Projection<CounterEvt>;
  /** Notes the lag when the last command was acknowledged; call once, right after the write phase. */
  markWritten(): Promise<void>;
  /**
   * Waits until it caught up with the log (as of the call), stops it and returns the report lines and,
   * when `expected` is given, whether the read model's values of those counters sum to its total.
   */
  finish(expected: ExpectedTotal | undefined): Promise<{ lines: string[]; verified: boolean | undefined }>;
}

/** What the run's counters sum to, to check the read model against. */
export interface ExpectedTotal {
  /** The ids of this run's counters (earlier runs with more counters leave other rows). */
  readonly ids: readonly string[];
  readonly total: bigint;
}

/** The change an event makes to its counter (u64 amounts, so bigint). */
function delta(evt: CounterEvt): bigint {
  switch (evt.evt?.$case) {
    case "increased":
      return evt.evt.value.inc;
    case "decreased":
      return -evt.evt.value.dec;
    default:
      throw new Error("unknown counter event kind");
  }
}

/** One upsert per batch: the batch's net change per counter, with the last seqNo applied. */
async function upsert(
  tx: { query(text: string, values?: unknown[]): Promise<unknown> },
  table: string,
  evts: readonly ProjectedEvt<CounterEvt>[],
) {
  const byId = new Map<string, { change: bigint; seqNo: number }>();
  for (const e of evts) {
    const before = byId.get(e.id);
    byId.set(e.id, { change: (before?.change ?? 0n) + delta(e.evt), seqNo: e.seqNo });
  }
  await tx.query(
    `INSERT INTO ${table} AS t (id, value, last_seq_no)
     SELECT * FROM unnest($1::text[], $2::numeric[], $3::int8[])
     ON CONFLICT (id) DO UPDATE SET value = t.value + EXCLUDED.value, last_seq_no = EXCLUDED.last_seq_no`,
    [
      [...byId.keys()],
      [...byId.values()].map((v) => v.change.toString()),
      [...byId.values()].map((v) => v.seqNo),
    ],
  );
}

/**
 * Runs a `CREATE TABLE IF NOT EXISTS`: two processes starting on a fresh schema at once can both pass the
 * "if not exists" and one then fails on the catalog's unique index (23505) or finds the table made (42P07);
 * the table exists either way, so that failure is the other's success.
 */
async function createTable(pool: PgPoolLike, ddl: string): Promise<void> {
  try {
    await pool.query(ddl);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== "23505" && code !== "42P07") throw error;
  }
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const count = (n: number) => n.toLocaleString("en-US");

/**
 * Starts the counter example's projection: `<schema>.counter_totals` holds each counter's value, kept
 * exactly-once from the log (writes and checkpoint in one transaction). Resolves once it is running; it
 * catches up with earlier runs' events in the background (the report says how long that took).
 */
export async function startCounterTotals(options: CounterTotalsOptions): Promise<CounterTotals> {
  const { pool, schema, evtLog } = options;
  const table = `"${schema}".counter_totals`;
  const store = await PostgresProjectionStore.create({ pool, schema });
  await createTable(
    pool,
    `CREATE TABLE IF NOT EXISTS ${table} (
    id text PRIMARY KEY, value numeric(20) NOT NULL, last_seq_no bigint NOT NULL)`,
  );
  const projection = Projection.create<CounterEvt>({
    name: "counter-totals",
    evtLog,
    type: COUNTER_TYPE_NAME,
    binarizer: counterBinarizer(options.binarizer),
    handler: exactlyOnce<CounterEvt>(store, {
      handle: (evts, tx) => upsert(tx, table, evts),
      reset: async (tx) => {
        await tx.query(`TRUNCATE ${table}`);
      },
    }),
    logger: options.logger ?? silentLogger,
  });
  const startedAt = performance.now();
  projection.start();
  const backlog = await projection.lag();
  const caughtUp = projection.whenCaughtUp().then(() => performance.now() - startedAt);
  caughtUp.catch(() => {});
  let atWritten: { lag: ProjectionLag; caughtUpMs: Promise<number> } | undefined;
  return {
    projection,
    async markWritten() {
      const at = performance.now();
      const caughtUpMs = projection.whenCaughtUp().then(() => performance.now() - at);
      caughtUpMs.catch(() => {});
      // The lag is for the report only: a log unreachable now (the write phase's failure says why) skips it.
      const lag = await projection.lag().catch(() => undefined);
      if (lag !== undefined) atWritten = { lag, caughtUpMs };
    },
    async finish(expected) {
      const lines = [
        `projection: counter_totals started ${count(backlog.events)} events behind the log and caught up in ${secs(await caughtUp)}`,
      ];
      if (atWritten !== undefined) {
        const { lag, caughtUpMs } = atWritten;
        const ms = lag.ms === undefined ? "n/a" : `${lag.ms} ms`;
        lines.push(
          `projection lag: ${count(lag.events)} events (${ms} of log time) behind when the last command was acknowledged; caught up ${secs(await caughtUpMs)} later`,
        );
      }
      await projection.stop();
      if (expected === undefined) return { lines, verified: undefined };
      const res = await pool.query(
        `SELECT coalesce(sum(value), 0)::text AS total FROM ${table} WHERE id = ANY($1::text[])`,
        [expected.ids],
      );
      const total = BigInt((res.rows[0] as { total: string }).total);
      const verified = total === expected.total;
      const of = `the ${count(expected.ids.length)} counters of this run`;
      lines.push(
        verified
          ? `projection verified: counter_totals sums to ${total} for ${of}, their total`
          : `projection NOT verified: counter_totals sums to ${total} for ${of}, the counters to ${expected.total}`,
      );
      return { lines, verified };
    },
  };
}
