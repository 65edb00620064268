import { type NewEvt, silentLogger } from "@eventsourced/core";
import { encodeIdToken, NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { EVT_JSON } from "./bench-counter.js";
import { closedLoop, type Measured } from "./closed-loop.js";
import { comparisonRow, rotateRounds } from "./measure.js";
import type { ResultRow } from "./results.js";

const EVT: NewEvt = { bytes: new TextEncoder().encode(EVT_JSON), contentType: "application/json" };

/** Runs `count` tasks with at most `concurrency` at a time. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Settings of the PostgreSQL deletion scenario. */
export interface PgDeletionSettings {
  readonly rounds: number;
  readonly loop: { readonly durationMs: number; readonly warmupMs: number };
  /** Concurrent writers (one entity each) measured for persist latency. */
  readonly writers: number;
  /** Entities pre-filled per round for the deleters, and their events each. */
  readonly entitiesPerRound: number;
  readonly evtsPerEntity: number;
  /** Deleting loops; each deletes one entity's events per statement (`evtsPerEntity` rows). */
  readonly deleters: number;
}

/**
 * PostgreSQL: batched deletion (`deleteEvts`, one statement of `evtsPerEntity` rows each) running side by
 * side with persisting writers, against the same writers alone, in rotating rounds. Reports events deleted
 * per second and the writers' persist p99 with and without deletion.
 */
export async function pgDeletionScenario(
  connectionString: string,
  schema: string,
  s: PgDeletionSettings,
): Promise<ResultRow[]> {
  const log = await PostgresEvtLog.create({
    connectionString,
    schema,
    maxConnections: 4 + s.deleters,
    logger: silentLogger,
  });
  try {
    // Entities to delete, written in persists of 1,000 events (grouped into large batches by the log).
    const total = s.rounds * s.entitiesPerRound;
    const chunk = Array.from({ length: Math.min(1_000, s.evtsPerEntity) }, () => EVT);
    await pool(total, 16, async (i) => {
      for (let seqNo = 0; seqNo < s.evtsPerEntity; seqNo += chunk.length) {
        await log.persist("doomed", `d-${i}`, seqNo, chunk);
      }
    });
    console.log(`postgres: ${total * s.evtsPerEntity} events written to delete`);
    let round = 0;
    const writersAlone = () => persistLoop(log, `alone-${round++}`, s);
    let nextDoomed = 0;
    const deleted: number[] = [];
    const writersWithDeletion = async () => {
      const label = `beside-${round++}`;
      const end = nextDoomed + s.entitiesPerRound;
      let removed = 0;
      let stop = false;
      const deleters = (async () => {
        // Deletion starts with the measured window, not the warm-up, and stops with it.
        await new Promise((resolve) => setTimeout(resolve, s.loop.warmupMs));
        const started = performance.now();
        await Promise.all(
          Array.from({ length: s.deleters }, async () => {
            while (!stop && nextDoomed < end) {
              removed += (await log.deleteEvts("doomed", `d-${nextDoomed++}`, s.evtsPerEntity)).removed;
            }
          }),
        );
        deleted.push(removed / ((performance.now() - started) / 1000));
      })();
      const measured = await persistLoop(log, label, s);
      stop = true;
      await deleters;
      nextDoomed = end;
      return measured;
    };
    const results = await rotateRounds(s.rounds, { alone: writersAlone, withDeletion: writersWithDeletion });
    const scenario = `postgres: delete in batches of ${s.evtsPerEntity} beside ${s.writers} writers`;
    return [
      comparisonRow({ scenario, metric: "events deleted", unit: "events/s" }, (v: number) => v, deleted),
      comparisonRow(
        { scenario, metric: "persist p99 (vs writers alone)", unit: "ms" },
        (m: Measured) => m.p99Ms,
        results.get("withDeletion")!,
        results.get("alone"),
      ),
      comparisonRow(
        { scenario, metric: "persists (vs writers alone)", unit: "persists/s" },
        (m: Measured) => m.perSecond,
        results.get("withDeletion")!,
        results.get("alone"),
      ),
    ];
  } finally {
    await log.close();
  }
}

function persistLoop(log: PostgresEvtLog, label: string, s: PgDeletionSettings): Promise<Measured> {
  return closedLoop({ ...s.loop, workers: s.writers }, (worker, seq) =>
    log.persist("writer", `${label}-${worker}`, seq, [EVT]),
  );
}

/** Settings of the NATS purge scenario. */
export interface NatsPurgeSettings {
  readonly rounds: number;
  /** Entities purged per round and system, and the messages each has. */
  readonly entitiesPerRound: number;
  readonly messagesPerEntity: number;
  readonly concurrency: number;
}

/**
 * NATS: `deleteEvts` of an entity's whole history (which purges all but its last message) against a raw
 * `purge { filter, keep: 1 }` of as many entities, in rotating rounds. Reports entities purged per second.
 */
export async function natsPurgeScenario(
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  s: NatsPurgeSettings,
): Promise<ResultRow[]> {
  const log = await NatsEvtLog.connect({
    connection: nc,
    stream: { name: stream, subjectPrefix: stream },
    logger: silentLogger,
  });
  try {
    const total = s.rounds * 2 * s.entitiesPerRound;
    await pool(total, 64, async (i) => {
      for (let seqNo = 0; seqNo < s.messagesPerEntity; seqNo++)
        await log.persist("purged", `p-${i}`, seqNo, [EVT]);
    });
    console.log(`nats: ${total * s.messagesPerEntity} messages written to purge`);
    let next = 0;
    const purge = (one: (id: string) => Promise<unknown>) => async () => {
      const from = next;
      next += s.entitiesPerRound;
      const started = performance.now();
      await pool(s.entitiesPerRound, s.concurrency, (i) => one(`p-${from + i}`).then(() => {}));
      return s.entitiesPerRound / ((performance.now() - started) / 1000);
    };
    const results = await rotateRounds(s.rounds, {
      ours: purge((id) => log.deleteEvts("purged", id, s.messagesPerEntity)),
      raw: purge((id) =>
        jsm.streams.purge(stream, { filter: `${stream}.purged.${encodeIdToken(id)}`, keep: 1 }),
      ),
    });
    const fields = {
      scenario: `nats: purge an entity's history but its last message, ${s.concurrency} at a time`,
      metric: "entities purged",
      unit: "entities/s",
    };
    return [
      comparisonRow(fields, (v: number) => v, results.get("ours")!, results.get("raw")),
      comparisonRow(
        { ...fields, metric: "entities purged (raw purge keep 1)" },
        (v: number) => v,
        results.get("raw")!,
      ),
    ];
  } finally {
    await log.close();
  }
}
