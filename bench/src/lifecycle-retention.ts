import {
  Entity,
  type EntityRef,
  type EvtLog,
  type EvtLogRetention,
  type ProtocolOf,
  type SnapshotStore,
  silentLogger,
} from "@eventsourced/core";
import { counter } from "./bench-counter.js";
import type { ResultRow } from "./results.js";

/** Akka's example policy: a snapshot every 100 events, 2 kept, the events they cover deleted. */
export const RETENTION = { snapshotEvery: 100, keepSnapshots: 2, deleteEvents: true } as const;

/** One retention workload: `counters` counters, `commandsEach` commands each, on one log and store. */
export interface RetentionWorkload {
  /** Names the rows, e.g. "postgres". */
  readonly label: string;
  readonly evtLog: EvtLog & EvtLogRetention;
  readonly snapshotStore: SnapshotStore;
  readonly counters: number;
  readonly commandsEach: number;
  /**
   * Let the event loop turn every this many commands. The in-memory log answers without I/O, so without
   * it no snapshot save (started on a later turn) would run before the workload ends.
   */
  readonly yieldEvery?: number | undefined;
}

/** Counts what recovery reads: events from the log, snapshots from the store. */
class Counting {
  events = 0;
  snapshots = 0;

  log(inner: EvtLog & EvtLogRetention): EvtLog & EvtLogRetention {
    const self = this;
    return new Proxy(inner, {
      get(target, property) {
        if (property !== "evtsById") {
          const value = Reflect.get(target, property, target);
          // Methods run on the real log: they use its private fields.
          return typeof value === "function" ? value.bind(target) : value;
        }
        return async function* (...args: Parameters<EvtLog["evtsById"]>) {
          for await (const record of target.evtsById(...args)) {
            self.events++;
            yield record;
          }
        };
      },
    });
  }

  store(inner: SnapshotStore): SnapshotStore {
    const self = this;
    return new Proxy(inner, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property !== "load" && property !== "loadAll") {
          return typeof value === "function" ? value.bind(target) : value;
        }
        return (...args: [string, string]) => {
          self.snapshots++;
          return (value as (type: string, id: string) => Promise<unknown>).apply(target, args);
        };
      },
    });
  }
}

/**
 * Drives the counters with retention on, then measures what is left per counter (events stored) and what
 * a recovery of each reads (snapshots and events). Returns the rows and the commands per second written.
 */
export async function retentionWorkload(w: RetentionWorkload): Promise<ResultRow[]> {
  const { evtLog, snapshotStore } = w;
  const type = counter.typeName;
  const ids = Array.from({ length: w.counters }, (_, i) => `r-${w.label}-${i}`);
  const options = { evtLog, snapshotStore, retention: RETENTION, logger: silentLogger };
  const started = performance.now();
  await Promise.all(
    ids.map(async (id) => {
      const ref = await Entity.spawn(id, counter, options);
      for (let n = 1; n <= w.commandsEach; n++) {
        await ref.handleCmd({ inc: 1 });
        if (w.yieldEvery !== undefined && n % w.yieldEvery === 0) await new Promise(setImmediate);
      }
      // Stopping waits for the last snapshot save and the retention run it asked for.
      await ref.stop();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const stored: number[] = [];
  for (const id of ids) stored.push((await evtLog.lastSeqNo(type, id)) - (await evtLog.deletedTo(type, id)));
  const counting = new Counting();
  const readEvents: number[] = [];
  const readSnapshots: number[] = [];
  for (const id of ids) {
    counting.events = 0;
    counting.snapshots = 0;
    const ref: EntityRef<ProtocolOf<typeof counter>> = await Entity.spawn(id, counter, {
      ...options,
      evtLog: counting.log(evtLog),
      snapshotStore: counting.store(snapshotStore),
    });
    if (ref.seqNo !== w.commandsEach) throw new Error(`${id} recovered at seqNo ${ref.seqNo}`);
    readEvents.push(counting.events);
    readSnapshots.push(counting.snapshots);
    await ref.stop();
  }
  const scenario = `${w.label}: ${w.counters} counters x ${w.commandsEach.toLocaleString("en-US")} commands, snapshot every 100, keep 2, delete events`;
  const max = (values: number[]) => Math.max(...values);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  console.log(`${scenario}: done in ${seconds.toFixed(1)} s`);
  return [
    {
      scenario,
      metric: "commands written",
      value: (w.counters * w.commandsEach) / seconds,
      unit: "commands/s",
    },
    { scenario, metric: "events stored per counter (max)", value: max(stored), unit: "events" },
    { scenario, metric: "events stored per counter (mean)", value: mean(stored), unit: "events" },
    { scenario, metric: "snapshots read per recovery (max)", value: max(readSnapshots), unit: "snapshots" },
    { scenario, metric: "events read per recovery (max)", value: max(readEvents), unit: "events" },
  ];
}
