import type { EvtLog } from "@eventsourced/core";
import type { ProjectedEvt } from "@eventsourced/projections";
import {
  exactlyOnce,
  type PgClientLike,
  type PostgresProjectionStore,
} from "@eventsourced/projections/postgres";
import type pg from "pg";
import { type Deposited, depositBinarizer } from "./fixtures.js";

/**
 * The read model the PostgreSQL tests project into: `<schema>.<prefix>totals` (a running sum per entity, the
 * last seqNo applied) and `<prefix>applied`, an audit of every application (position, entity, seqNo, count),
 * so a test can prove that nothing was applied twice or skipped.
 */
export class ReadModel {
  readonly totals: string;
  readonly applied: string;

  constructor(
    readonly pool: pg.Pool,
    schema: string,
    prefix = "",
  ) {
    this.totals = `"${schema}"."${prefix}totals"`;
    this.applied = `"${schema}"."${prefix}applied"`;
  }

  async create(): Promise<void> {
    await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${this.totals.split(".")[0]}`);
    await this.pool.query(`CREATE TABLE IF NOT EXISTS ${this.totals} (
      id text PRIMARY KEY, total bigint NOT NULL, last_seq_no bigint NOT NULL)`);
    await this.pool.query(`CREATE TABLE IF NOT EXISTS ${this.applied} (
      position bigint PRIMARY KEY, id text NOT NULL, seq_no bigint NOT NULL, count int NOT NULL)`);
  }

  /** Applies a batch on `tx`: the upserts a real read model would do, plus the audit rows. */
  async apply(tx: PgClientLike, evts: readonly ProjectedEvt<Deposited>[]): Promise<void> {
    const ids = evts.map((e) => e.id);
    const seqNos = evts.map((e) => e.seqNo);
    await tx.query(
      `INSERT INTO ${this.totals} AS t (id, total, last_seq_no)
       SELECT id, sum(amount), max(seq_no) FROM unnest($1::text[], $2::int8[], $3::int8[]) AS e(id, amount, seq_no)
       GROUP BY id
       ON CONFLICT (id) DO UPDATE SET total = t.total + EXCLUDED.total, last_seq_no = EXCLUDED.last_seq_no`,
      [ids, evts.map((e) => e.evt.amount), seqNos],
    );
    await tx.query(
      `INSERT INTO ${this.applied} AS a (position, id, seq_no, count)
       SELECT p, i, s, 1 FROM unnest($1::int8[], $2::text[], $3::int8[]) AS e(p, i, s)
       ON CONFLICT (position) DO UPDATE SET count = a.count + 1`,
      [evts.map((e) => e.position), ids, seqNos],
    );
  }

  async reset(tx: PgClientLike): Promise<void> {
    await tx.query(`TRUNCATE ${this.totals}, ${this.applied}`);
  }

  /** `exactlyOnce` over this read model; `beforeCommit` may throw to inject a failure after the writes. */
  handler(
    store: PostgresProjectionStore,
    beforeCommit?: (evts: readonly ProjectedEvt<Deposited>[]) => void | Promise<void>,
  ) {
    return exactlyOnce<Deposited>(store, {
      handle: async (evts, tx) => {
        await this.apply(tx, evts);
        await beforeCommit?.(evts);
      },
      reset: (tx) => this.reset(tx),
    });
  }

  async totalsById(): Promise<Map<string, number>> {
    const res = await this.pool.query(`SELECT id, total FROM ${this.totals}`);
    return new Map(res.rows.map((r: { id: string; total: string }) => [r.id, Number(r.total)]));
  }

  /** Audit rows: position -> [id, seqNo, count]. */
  async audit(): Promise<Map<number, { id: string; seqNo: number; count: number }>> {
    const res = await this.pool.query(
      `SELECT position, id, seq_no, count FROM ${this.applied} ORDER BY position`,
    );
    return new Map(
      res.rows.map((r: { position: string; id: string; seq_no: string; count: number }) => [
        Number(r.position),
        { id: r.id, seqNo: Number(r.seq_no), count: r.count },
      ]),
    );
  }
}

/** The fold of the log: the total per entity, and every event's position with its entity and seqNo. */
export async function foldOfLog(
  log: EvtLog,
  type: string,
): Promise<{ totals: Map<string, number>; events: { position: number; id: string; seqNo: number }[] }> {
  const totals = new Map<string, number>();
  const events: { position: number; id: string; seqNo: number }[] = [];
  for await (const r of log.evtsByType(type)) {
    const evt = depositBinarizer.evtFromBytes(r.bytes, r.contentType);
    totals.set(r.id, (totals.get(r.id) ?? 0) + evt.amount);
    events.push({ position: r.position, id: r.id, seqNo: r.seqNo });
  }
  return { totals, events };
}

/**
 * The exactly-once verdict: every event of the log applied exactly once (no position missing, none counted
 * twice, nothing that is not in the log), per-entity seqNos contiguous from 1, totals equal to the fold.
 */
export async function exactlyOnceVerdict(model: ReadModel, log: EvtLog, type: string) {
  const fold = await foldOfLog(log, type);
  const audit = await model.audit();
  const missing = fold.events.filter((e) => !audit.has(e.position)).length;
  const duplicated = [...audit.values()].filter((a) => a.count > 1).length;
  const inLog = new Set(fold.events.map((e) => e.position));
  const foreign = [...audit.keys()].filter((p) => !inLog.has(p)).length;
  const seqNos = new Map<string, number[]>();
  for (const a of audit.values()) seqNos.set(a.id, [...(seqNos.get(a.id) ?? []), a.seqNo]);
  const gaps = [...seqNos.values()].filter((list) => list.some((seqNo, i) => seqNo !== i + 1)).length;
  const totals = await model.totalsById();
  const wrongTotals = [...fold.totals].filter(([id, total]) => totals.get(id) !== total).length;
  return { events: fold.events.length, missing, duplicated, foreign, gaps, wrongTotals };
}
