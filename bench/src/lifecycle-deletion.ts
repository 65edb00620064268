import { type NewEvt, silentLogger } from "@eventsourced/core";
import { encodeIdToken, NatsEvtLog } from "@eventsourced/evtlog-nats";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { EVT_JSON } from "./bench-counter.js";
import { comparisonRow, rotateRounds } from "./measure.js";
import type { ResultRow } from "./results.js";

export const EVT: NewEvt = { bytes: new TextEncoder().encode(EVT_JSON), contentType: "application/json" };

/** Runs `count` tasks with at most `concurrency` at a time. */
export async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
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
