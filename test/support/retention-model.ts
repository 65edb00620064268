import {
  Entity,
  type EntityRef,
  type EvtLog,
  type EvtLogRetention,
  type ProtocolOf,
  runRetention,
  type SnapshotStore,
  silentLogger,
} from "@eventsourced/core";
import fc from "fast-check";
import { expect } from "vitest";
import { counter } from "../../packages/core/test/fixtures.js";

// The retention property, for any log and snapshot store: random commands (single- and multi-event),
// random snapshot/retention settings, explicit retention runs racing the commands and restarts; after
// every restart and at the end, the recovered state equals the fold of every command ever accepted, the
// log never rewinds, and what is left of it is a contiguous suffix that the oldest kept snapshot covers.

type Counter = EntityRef<ProtocolOf<typeof counter>>;

/** One step of a generated run. */
export type Step =
  | { readonly kind: "inc"; readonly bys: readonly [number, ...number[]] }
  | { readonly kind: "retention" }
  | { readonly kind: "restart" };

/** The settings of one generated run. */
export interface RunSettings {
  readonly snapshotEvery: number;
  readonly keepSnapshots: number;
  readonly batchSize: number;
}

/** What a run needs: a log and a snapshot store keeping at least `keepSnapshots`. */
export interface RunStores {
  readonly evtLog: EvtLog & EvtLogRetention;
  readonly snapshotStore: SnapshotStore;
}

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 })
      .map((bys) => ({ kind: "inc", bys: bys as [number, ...number[]] }) as const),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "retention" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "restart" } as const) },
);

/** Arbitrary settings; `maxKeep` bounds `keepSnapshots` (a fixed store's history). */
export function settings(maxKeep: number): fc.Arbitrary<RunSettings> {
  return fc.record({
    snapshotEvery: fc.integer({ min: 1, max: 8 }),
    keepSnapshots: fc.integer({ min: 1, max: maxKeep }),
    batchSize: fc.integer({ min: 1, max: 5 }),
  });
}

/** Arbitrary runs of up to `maxSteps` steps. */
export function steps(maxSteps: number): fc.Arbitrary<Step[]> {
  return fc.array(step, { minLength: 1, maxLength: maxSteps });
}

const idle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs one generated scenario on entity `id` and checks the property; throws (expect) when it fails. */
export async function checkRun(id: string, run: RunSettings, plan: readonly Step[], stores: RunStores) {
  const { evtLog, snapshotStore } = stores;
  const policy = { ...run, deleteEvents: true };
  const spawn = () =>
    Entity.spawn(id, counter, { evtLog, snapshotStore, retention: policy, logger: silentLogger });
  let ref: Counter = await spawn();
  let sum = 0;
  let evts = 0;
  const racing: Promise<unknown>[] = [];
  const checkRecovered = async (entity: Counter) => {
    expect(await entity.handleCmd({ type: "get" })).toMatchObject({ reply: sum, seqNo: evts });
  };
  for (const s of plan) {
    if (s.kind === "inc") {
      const cmd =
        s.bys.length === 1
          ? { type: "inc" as const, by: s.bys[0] }
          : { type: "incMany" as const, bys: s.bys };
      expect(await ref.handleCmd(cmd)).toMatchObject({ kind: "accepted" });
      sum += s.bys.reduce((a, b) => a + b, 0);
      evts += s.bys.length;
      await idle();
    } else if (s.kind === "retention") {
      // Not awaited: it races the commands that follow, as a sweep from another process would.
      racing.push(runRetention("counter", id, { evtLog, snapshotStore, policy }));
    } else {
      await ref.stop();
      ref = await spawn();
      await checkRecovered(ref);
    }
  }
  await Promise.all(racing);
  await ref.stop();
  const last = await evtLog.lastSeqNo("counter", id);
  expect(last).toBe(evts);
  const deletedTo = await evtLog.deletedTo("counter", id);
  const kept = (await snapshotStore.loadAll?.("counter", id)) ?? [];
  if (deletedTo > 0) {
    // Deletion never went past the oldest kept snapshot (the ones beyond K may have been dropped since).
    expect(kept.length).toBeGreaterThan(0);
    expect(deletedTo).toBeLessThanOrEqual(kept[0]!.seqNo);
  }
  const remaining: number[] = [];
  for await (const record of evtLog.evtsById("counter", id, { from: 1 })) remaining.push(record.seqNo);
  expect(remaining).toEqual(Array.from({ length: last - deletedTo }, (_, i) => deletedTo + 1 + i));
  await checkRecovered(await spawn());
}
