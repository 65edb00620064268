import {
  DecodeError,
  Entity,
  type EvtLog,
  type EvtLogBulkReads,
  type EvtRange,
  evtsByIdsOf,
  type IdEvtRecord,
  InvalidArgumentError,
  SnapshotAheadOfLogError,
} from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, foreignIncreased } from "./fixtures.js";

/** An in-memory log with a bulk read (one `evtsById` per range) that counts its calls. */
class BulkLog extends InMemoryEvtLog implements EvtLogBulkReads {
  bulkReads = 0;
  byIdReads = 0;
  override evtsById(...args: Parameters<InMemoryEvtLog["evtsById"]>) {
    this.byIdReads++;
    return super.evtsById(...args);
  }
  async *evtsByIds(type: string, ranges: readonly EvtRange[]): AsyncIterable<IdEvtRecord> {
    this.bulkReads++;
    for (const { id, from, to } of ranges) {
      for await (const record of super.evtsById(type, id, { from, to })) yield { ...record, id };
    }
  }
}

async function fill(log: EvtLog, counts: Record<string, number>): Promise<void> {
  for (const [id, n] of Object.entries(counts)) {
    for (let i = 0; i < n; i++) await log.persist("counter", id, i, [foreignIncreased(i + 1)]);
  }
}
const sum = (n: number) => (n * (n + 1)) / 2;

describe("Entity.spawnMany", () => {
  it("recovers every entity to the state spawn recovers, reading their events in one bulk read", async () => {
    const evtLog = new BulkLog();
    await fill(evtLog, { a: 5, b: 0, c: 12 });
    const refs = await Entity.spawnMany(["c", "a", "b"], counter, { evtLog });
    expect(refs.map((ref) => ref.id)).toEqual(["c", "a", "b"]);
    expect(refs.map((ref) => ref.seqNo)).toEqual([12, 5, 0]);
    for (const [ref, n] of [
      [refs[0]!, 12],
      [refs[1]!, 5],
    ] as const) {
      expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: sum(n) });
    }
    expect(evtLog.bulkReads).toBe(1);
    expect(evtLog.byIdReads).toBe(0);
    // They run: a command persists after the recovered seqNo.
    expect(await refs[2]!.handleCmd({ type: "inc", by: 3 })).toMatchObject({ kind: "accepted", seqNo: 1 });
  });

  it("reads only the events after each entity's snapshot", async () => {
    const evtLog = new BulkLog();
    const snapshotStore = new InMemorySnapshotStore();
    await fill(evtLog, { a: 10 });
    const first = await Entity.spawn("a", counter, { evtLog, snapshotStore, snapshotAfter: 4 });
    await first.stop();
    const [ref] = await Entity.spawnMany(["a"], counter, { evtLog, snapshotStore });
    expect(await ref!.handleCmd({ type: "get" })).toMatchObject({ reply: sum(10) });
  });

  it("works on a log without bulk reads, one evtsById per entity", async () => {
    const evtLog = new InMemoryEvtLog();
    await fill(evtLog, { a: 3, b: 4 });
    const refs = await Entity.spawnMany(["a", "b"], counter, { evtLog });
    expect(refs.map((ref) => ref.seqNo)).toEqual([3, 4]);
  });

  it("starts none and rejects as spawn would when one entity cannot be recovered", async () => {
    const evtLog = new BulkLog();
    await fill(evtLog, { a: 3, c: 3 });
    await evtLog.persist("counter", "b", 0, [{ bytes: new TextEncoder().encode("not json") }]);
    const err = await Entity.spawnMany(["a", "b", "c"], counter, { evtLog }).catch((e) => e);
    expect(err).toBeInstanceOf(DecodeError);
    expect(err.message).toContain('"b"');
  });

  it("rejects a snapshot ahead of the log with SnapshotAheadOfLogError", async () => {
    const evtLog = new BulkLog();
    const snapshotStore = new InMemorySnapshotStore();
    await snapshotStore.save("counter", "a", { seqNo: 9, bytes: new TextEncoder().encode("1") });
    const err = await Entity.spawnMany(["a"], counter, { evtLog, snapshotStore }).catch((e) => e);
    expect(err).toBeInstanceOf(SnapshotAheadOfLogError);
  });

  it("refuses duplicate and invalid ids with InvalidArgumentError before reading anything", async () => {
    const evtLog = new BulkLog();
    await expect(Entity.spawnMany(["a", "a"], counter, { evtLog })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(Entity.spawnMany(["a", ""], counter, { evtLog })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(evtLog.bulkReads + evtLog.byIdReads).toBe(0);
  });
});

describe("evtsByIdsOf", () => {
  it("concatenates evtsById per range on a log without bulk reads", async () => {
    const evtLog = new InMemoryEvtLog();
    await fill(evtLog, { a: 3, b: 2 });
    const read: string[] = [];
    for await (const r of evtsByIdsOf(evtLog, "counter", [
      { id: "b", from: 1, to: 2 },
      { id: "a", from: 2, to: 9 },
    ])) {
      read.push(`${r.id}${r.seqNo}`);
    }
    expect(read).toEqual(["b1", "b2", "a2", "a3"]);
  });
});
