import { DeletionPacer, type DeletionPacing, deleteEntity, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { closedLoop, type Measured } from "./closed-loop.js";
import { EVT, pool } from "./lifecycle-deletion.js";
import { comparisonRow, rotateRounds, spread } from "./measure.js";
import type { ResultRow } from "./results.js";

/** Settings of the PostgreSQL deletion scenario. */
export interface PgDeletionSettings {
  readonly rounds: number;
  readonly loop: { readonly durationMs: number; readonly warmupMs: number };
  /** Concurrent writers (one entity each) measured for persist latency. */
  readonly writers: number;
  /** Entities pre-filled per round and deletion variant, and their events each (= the batch size). */
  readonly entitiesPerRound: number;
  readonly evtsPerEntity: number;
  /**
   * The paced variant's pacing: `deleteEntity` of one entity after another through one `DeletionPacer`,
   * in batches of `evtsPerEntity`. Without it only the unpaced variant runs.
   */
  readonly paced?: DeletionPacing | undefined;
}

/** One round of writers beside a deletion variant. */
interface Beside {
  readonly writers: Measured;
  /** Events deleted per second while deletion ran. */
  readonly deleted: number;
  /** Share of the writers' measured window during which deletion ran (it stops when it runs out), %. */
  readonly activePercent: number;
}

/** Deletes the entities `ids` one after another until done or `signal` aborts; resolves to events removed. */
type Deleter = (ids: readonly string[], signal: AbortSignal) => Promise<number>;

/**
 * PostgreSQL: deletion running side by side with persisting writers, against the same writers alone, in
 * rotating rounds (alone, unpaced, paced). Unpaced: raw `deleteEvts` statements of `evtsPerEntity` rows,
 * back to back (the raw deletion speed). Paced: `deleteEntity` through a `DeletionPacer`, as background
 * deletion runs. Reports events deleted per second, the writers' persist p99 with and without deletion and
 * its rise (with / alone, paired by round).
 */
export async function pgDeletionScenario(
  connectionString: string,
  schema: string,
  s: PgDeletionSettings,
): Promise<ResultRow[]> {
  const log = await PostgresEvtLog.create({
    connectionString,
    schema,
    maxConnections: 4,
    logger: silentLogger,
  });
  try {
    const variants = s.paced === undefined ? 1 : 2;
    // Entities to delete, written in persists of 1,000 events (grouped into large batches by the log).
    const total = s.rounds * variants * s.entitiesPerRound;
    const chunk = Array.from({ length: Math.min(1_000, s.evtsPerEntity) }, () => EVT);
    await pool(total, 16, async (i) => {
      for (let seqNo = 0; seqNo < s.evtsPerEntity; seqNo += chunk.length) {
        await log.persist("doomed", `d-${i}`, seqNo, chunk);
      }
    });
    console.log(`postgres: ${total * s.evtsPerEntity} events written to delete`);
    let round = 0;
    let nextDoomed = 0;
    const alone = () => persistLoop(log, `alone-${round++}`, s);
    const beside = (name: string, deleter: Deleter) => async (): Promise<Beside> => {
      const label = `${name}-${round++}`;
      const ids = Array.from({ length: s.entitiesPerRound }, () => `d-${nextDoomed++}`);
      const stop = new AbortController();
      let deletion = { deleted: 0, activePercent: 0 };
      const deleting = (async () => {
        // Deletion starts with the measured window, not the warm-up, and stops with it.
        await new Promise((resolve) => setTimeout(resolve, s.loop.warmupMs));
        const started = performance.now();
        const removed = await deleter(ids, stop.signal);
        const ms = performance.now() - started;
        deletion = {
          deleted: removed / (ms / 1000),
          activePercent: Math.min(100, (100 * ms) / s.loop.durationMs),
        };
      })();
      const writers = await persistLoop(log, label, s);
      stop.abort();
      await deleting;
      return { writers, ...deletion };
    };
    const unpaced: Deleter = async (ids, signal) => {
      let removed = 0;
      for (const id of ids) {
        if (signal.aborted) break;
        removed += (await log.deleteEvts("doomed", id, s.evtsPerEntity)).removed;
      }
      return removed;
    };
    const paced: Deleter = async (ids, signal) => {
      const pacing = new DeletionPacer(s.paced);
      let removed = 0;
      for (const id of ids) {
        try {
          const options = { evtLog: log, batchSize: s.evtsPerEntity, pacing, signal };
          removed += (await deleteEntity("doomed", id, options)).removed;
        } catch (error) {
          // Stopped during a pause: nothing of that entity was deleted.
          if (signal.aborted) break;
          throw error;
        }
      }
      return removed;
    };
    const results = await rotateRounds<"alone" | "unpaced" | "paced", Measured | Beside>(s.rounds, {
      alone,
      unpaced: beside("unpaced", unpaced),
      ...(s.paced === undefined ? {} : { paced: beside("paced", paced) }),
    });
    const aloneRounds = results.get("alone") as Measured[];
    const rows = besideRows(
      `postgres: delete in batches of ${s.evtsPerEntity} beside ${s.writers} writers`,
      results.get("unpaced") as Beside[],
      aloneRounds,
    );
    if (s.paced !== undefined) {
      const { maxEventsPerSecond, pauseMs, concurrency } = new DeletionPacer(s.paced).pacing;
      const pace = [
        `at most ${maxEventsPerSecond.toLocaleString("en-US")} events/s`,
        ...(pauseMs > 0 ? [`${pauseMs} ms pauses`] : []),
        ...(concurrency > 1 ? [`${concurrency} batches at once`] : []),
      ].join(", ");
      const scenario = `postgres: paced deletion (deleteEntity, batches of ${s.evtsPerEntity}, ${pace}) beside ${s.writers} writers`;
      rows.push(...besideRows(scenario, results.get("paced") as Beside[], aloneRounds));
    }
    return rows;
  } finally {
    await log.close();
  }
}

function besideRows(scenario: string, beside: readonly Beside[], alone: readonly Measured[]): ResultRow[] {
  const writers = beside.map((b) => b.writers);
  // Paired by round: each round's writers beside deletion against the same round's writers alone.
  const rise = beside.map((b, i) => b.writers.p99Ms / alone[i]!.p99Ms);
  return [
    comparisonRow({ scenario, metric: "events deleted", unit: "events/s" }, (b: Beside) => b.deleted, beside),
    comparisonRow(
      { scenario, metric: "deletion running (share of the window)", unit: "%" },
      (b: Beside) => b.activePercent,
      beside,
    ),
    comparisonRow(
      { scenario, metric: "persist p99 (vs writers alone)", unit: "ms" },
      (m: Measured) => m.p99Ms,
      writers,
      alone,
    ),
    { scenario, metric: "persist p99 rise (beside deletion / alone)", unit: "×", ...spread(rise) },
    comparisonRow(
      { scenario, metric: "persists (vs writers alone)", unit: "persists/s" },
      (m: Measured) => m.perSecond,
      writers,
      alone,
    ),
  ];
}

function persistLoop(log: PostgresEvtLog, label: string, s: PgDeletionSettings): Promise<Measured> {
  return closedLoop({ ...s.loop, workers: s.writers }, (worker, seq) =>
    log.persist("writer", `${label}-${worker}`, seq, [EVT]),
  );
}
