import type { ClusterClient } from "@eventsourced/cluster";
import type { EvtLog } from "@eventsourced/core";
import { COUNTER_TYPE_NAME, get } from "../counter.js";

/** What the client saw per counter. */
export interface CounterObservations {
  readonly ids: readonly string[];
  /** The seqNo of every acknowledged increment, per counter. */
  readonly acked: ReadonlyMap<string, readonly number[]>;
  /** Increments whose outcome the client does not know (retry budget spent), per counter. */
  readonly unknown: ReadonlyMap<string, number>;
  readonly client: ClusterClient;
  readonly log: EvtLog;
}

/**
 * Every acknowledged increment exactly once: the seqNos acknowledged for a counter are distinct, its value
 * (asked through the cluster, i.e. recovered by its current owner) equals its number of events in the log,
 * and lies between the acknowledged increments and those plus the unknown ones.
 */
export async function verifyCounters(o: CounterObservations): Promise<string[]> {
  const mismatches: string[] = [];
  for (let i = 0; i < o.ids.length; i += 20) {
    await Promise.all(
      o.ids.slice(i, i + 20).map(async (id) => {
        const seqNos = o.acked.get(id) ?? [];
        if (new Set(seqNos).size !== seqNos.length)
          mismatches.push(`${id}: two acknowledgements share a seqNo`);
        const result = await o.client.send(id, get(), { timeoutMs: 30_000 });
        const value = result.kind === "accepted" ? Number(result.reply as bigint) : -1;
        const inLog = await o.log.lastSeqNo(COUNTER_TYPE_NAME, id);
        const low = seqNos.length;
        const high = low + (o.unknown.get(id) ?? 0);
        if (value !== inLog || value < low || value > high) {
          mismatches.push(
            `${id}: value ${value}, ${inLog} events, ${low} acknowledged, ${high - low} unknown`,
          );
        }
      }),
    );
  }
  return mismatches;
}
