import { type EvtLog, jsonFromBytes } from "@eventsourced/core";
import { overlappingIntervals, validityIntervals } from "@eventsourced/leases/testing";
import type { RunRecord, ShardEvent } from "./cluster-process.js";
import type { Workload } from "./workload.js";

/** One stored event of the run, with the tenure it was written under (the node's audit stamp). */
export interface StoredEvt {
  readonly id: string;
  readonly seqNo: number;
  readonly position: number;
  readonly tag: string;
  readonly shard: number;
  readonly epoch: number;
  readonly owner: string;
}

/** Every event of `type`, in log order. */
export async function readRun(log: EvtLog, type: string): Promise<StoredEvt[]> {
  const out: StoredEvt[] = [];
  for await (const r of log.evtsByType(type)) {
    const headers = r.metadata?.headers ?? {};
    out.push({
      id: r.id,
      seqNo: r.seqNo,
      position: r.position,
      tag: jsonFromBytes<{ tag: string }>(r.bytes).tag,
      shard: Number(headers.shard),
      epoch: Number(headers.epoch),
      owner: headers.owner ?? "?",
    });
  }
  return out;
}

/** Violations of "acknowledged => in the log exactly once, at the acknowledged seqNo" and of "at most once". */
export function exactlyOnceViolations(events: readonly StoredEvt[], workload: Workload): string[] {
  const byTag = new Map<string, StoredEvt[]>();
  for (const e of events) byTag.set(e.tag, [...(byTag.get(e.tag) ?? []), e]);
  const violations: string[] = [];
  for (const [tag, stored] of byTag) {
    if (stored.length > 1) violations.push(`${tag} stored ${stored.length} times`);
  }
  for (const [tag, ack] of workload.acked) {
    const stored = byTag.get(tag) ?? [];
    if (stored.length === 0) violations.push(`${tag} acknowledged (seqNo ${ack.seqNo}) but not in the log`);
    else if (stored[0]!.id !== ack.id || stored[0]!.seqNo !== ack.seqNo) {
      violations.push(
        `${tag} acknowledged as ${ack.id}#${ack.seqNo}, stored as ${stored[0]!.id}#${stored[0]!.seqNo}`,
      );
    }
  }
  return violations;
}

/** Pairs of tenures of one shard whose validity intervals overlap (from every node's ownership log). */
export function overlapViolations(record: RunRecord): string[] {
  return overlappingIntervals(validityIntervals(record.leaseLog)).map(
    ([a, b]) =>
      `${a.key}: ${a.owner}#${a.epoch} [${a.start}, ${a.end}] overlaps ${b.owner}#${b.epoch} [${b.start}, ${b.end}]`,
  );
}

/**
 * Strict mode: no event committed under a superseded epoch. Positions are commit order (PostgreSQL) or
 * stream order (NATS), so
 * along them the epochs of one shard's events never go down, and every event's epoch is one its owner held.
 */
export function supersededEpochViolations(events: readonly StoredEvt[], record: RunRecord): string[] {
  const tenures = new Set(
    record.leaseLog
      .filter((e) => e.event === "acquired")
      .map((e) => `${e.key.split(".").at(-1)}/${e.owner}/${e.epoch}`),
  );
  const highest = new Map<number, StoredEvt>();
  const violations: string[] = [];
  for (const e of events) {
    const before = highest.get(e.shard);
    if (before !== undefined && e.epoch < before.epoch) {
      violations.push(
        `${e.tag} (shard ${e.shard}, epoch ${e.epoch}) committed after ${before.tag} of epoch ${before.epoch}`,
      );
    }
    if (before === undefined || e.epoch > before.epoch) highest.set(e.shard, e);
    if (!tenures.has(`${e.shard}/${e.owner}/${e.epoch}`))
      violations.push(`${e.tag}: no tenure ${e.owner}#${e.epoch} of shard ${e.shard} was logged`);
  }
  return violations;
}

/**
 * Writes a paused node sent after SIGCONT under a tenure it held before the SIGSTOP and got acknowledged
 * (a write sent before the SIGSTOP and acknowledged after SIGCONT committed before: it does not count).
 */
export function writesAfterResume(
  record: RunRecord,
  nodeId: string,
  stoppedAt: bigint,
  resumedAt: bigint,
): number {
  const before = new Set(
    record.shardEvents
      .filter((e) => e.nodeId === nodeId && e.ev === "acquired" && e.at < stoppedAt)
      .map((e) => `${e.shard}/${e.epoch}`),
  );
  return record.writes.filter(
    (w) => w.nodeId === nodeId && w.at > resumedAt && before.has(`${w.shard}/${w.epoch}`),
  ).length;
}

/** The shards `nodeId` held at `at`: acquired before, not ended before. */
export function shardsHeld(events: readonly ShardEvent[], nodeId: string, at: bigint): number[] {
  const held = new Map<number, number>();
  for (const e of byTime(events)) {
    if (e.nodeId !== nodeId || e.at > at) continue;
    if (e.ev === "acquired") held.set(e.shard, e.epoch);
    else if (held.get(e.shard) === e.epoch) held.delete(e.shard);
  }
  return [...held.keys()];
}

/** Per killed shard: milliseconds from the kill to its acquisition by another node (undefined: not yet). */
export function handoverTimes(
  events: readonly ShardEvent[],
  victim: string,
  killedAt: bigint,
): (number | undefined)[] {
  return shardsHeld(events, victim, killedAt).map((shard) => {
    const next = events.find(
      (e) => e.ev === "acquired" && e.shard === shard && e.nodeId !== victim && e.at > killedAt,
    );
    return next === undefined ? undefined : Number(next.at - killedAt) / 1e6;
  });
}

/** The owner of every shard now, from the shard events (undefined: nobody). */
export function currentOwners(events: readonly ShardEvent[], shardCount: number): (string | undefined)[] {
  const owners: (string | undefined)[] = Array.from({ length: shardCount }, () => undefined);
  const epochs: number[] = Array.from({ length: shardCount }, () => 0);
  for (const e of byTime(events)) {
    if (e.ev === "acquired" && e.epoch >= epochs[e.shard]!) {
      owners[e.shard] = e.nodeId;
      epochs[e.shard] = e.epoch;
    } else if (e.ev === "ended" && e.epoch === epochs[e.shard] && owners[e.shard] === e.nodeId) {
      owners[e.shard] = undefined;
    }
  }
  return owners;
}

/** Shard events in time order (they arrive interleaved from several processes). */
function byTime(events: readonly ShardEvent[]): ShardEvent[] {
  return [...events].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/**
 * Graceful handovers of `nodeId` after `since`: per shard it released, milliseconds from the release to the
 * next owner's acquisition (undefined: not acquired again).
 */
export function gracefulHandoverTimes(
  events: readonly ShardEvent[],
  nodeId: string,
  since: bigint,
): (number | undefined)[] {
  const released = events.filter(
    (e) => e.nodeId === nodeId && e.ev === "ended" && e.reason === "released" && e.at >= since,
  );
  return released.map((r) => {
    const next = byTime(events).find(
      (e) => e.ev === "acquired" && e.shard === r.shard && e.nodeId !== nodeId && e.at >= r.at,
    );
    return next === undefined ? undefined : Number(next.at - r.at) / 1e6;
  });
}
