import { Entity, jsonFromBytes, type Snapshot, type SnapshotStore } from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, inc, RecordingLogger, settle, until } from "./fixtures.js";

/** A snapshot store whose saves wait until released, recording the order they were attempted in. */
class GatedSnapshotStore implements SnapshotStore {
  readonly attempts: number[] = [];
  readonly inner = new InMemorySnapshotStore();
  readonly #gates: (() => void)[] = [];
  failing = false;

  async save(type: string, id: string, snapshot: Snapshot): Promise<void> {
    this.attempts.push(snapshot.seqNo);
    await new Promise<void>((resolve) => this.#gates.push(resolve));
    if (this.failing) throw new Error("snapshot store down");
    await this.inner.save(type, id, snapshot);
  }

  load(type: string, id: string): Promise<Snapshot | undefined> {
    return this.inner.load(type, id);
  }

  get waiting(): number {
    return this.#gates.length;
  }

  releaseAll(): void {
    for (const gate of this.#gates.splice(0)) gate();
  }
}

class FailingSnapshotStore implements SnapshotStore {
  saves = 0;
  async save(): Promise<void> {
    this.saves++;
    throw new Error("snapshot store down");
  }
  async load(): Promise<undefined> {
    return undefined;
  }
}

describe("Snapshots", () => {
  it("snapshotAfter n saves when the seqNo crosses a multiple of n, even when a multi-event command jumps over it", async () => {
    const snapshotStore = new GatedSnapshotStore();
    const ref = await Entity.spawn("c1", counter, {
      evtLog: new InMemoryEvtLog(),
      snapshotStore,
      snapshotAfter: 5,
    });
    await ref.handleCmd({ type: "incMany", bys: [1, 1, 1, 1] }); // seqNo 4: no multiple of 5 crossed
    await ref.handleCmd({ type: "incMany", bys: [1, 1, 1] }); // seqNo 7: crossed 5
    await until(() => snapshotStore.waiting === 1);
    snapshotStore.releaseAll();
    await ref.handleCmd({ type: "incMany", bys: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] }); // 19: crossed 10 and 15
    await until(() => snapshotStore.waiting === 1);
    snapshotStore.releaseAll();
    await ref.stop();
    expect(snapshotStore.attempts).toEqual([7, 19]);
    expect(await snapshotStore.load("counter", "c1")).toMatchObject({ seqNo: 19 });
    expect(ref.stats.snapshotsSaved).toBe(2);
  });

  it("a snapshot predicate decides from the state and seqNo", async () => {
    const snapshotStore = new InMemorySnapshotStore();
    const ref = await Entity.spawn("c1", counter, {
      evtLog: new InMemoryEvtLog(),
      snapshotStore,
      snapshotAfter: (state) => state >= 100,
    });
    await ref.handleCmd(inc(50));
    await ref.handleCmd(inc(60));
    await ref.stop();
    const saved = await snapshotStore.load("counter", "c1");
    expect(saved?.seqNo).toBe(2);
    expect(jsonFromBytes(saved!.bytes)).toBe(110);
  });

  it("saves run one at a time in seqNo order and pile-ups coalesce to the newest", async () => {
    const snapshotStore = new GatedSnapshotStore();
    const ref = await Entity.spawn("c1", counter, {
      evtLog: new InMemoryEvtLog(),
      snapshotStore,
      snapshotAfter: 1,
    });
    await ref.handleCmd(inc(1));
    await until(() => snapshotStore.waiting === 1);
    for (let i = 2; i <= 5; i++) await ref.handleCmd(inc(1));
    expect(snapshotStore.attempts).toEqual([1]);
    snapshotStore.releaseAll();
    await until(() => snapshotStore.waiting === 1);
    snapshotStore.releaseAll();
    await ref.stop();
    // Seqs 2..4 were superseded while 1 was being saved; 5 followed it.
    expect(snapshotStore.attempts).toEqual([1, 5]);
    expect(await snapshotStore.load("counter", "c1")).toMatchObject({ seqNo: 5 });
  });

  it("a failing snapshot save is counted and logged, not fatal, and does not delay replies", async () => {
    const snapshotStore = new GatedSnapshotStore();
    snapshotStore.failing = true;
    const logger = new RecordingLogger();
    const ref = await Entity.spawn("c1", counter, {
      evtLog: new InMemoryEvtLog(),
      snapshotStore,
      snapshotAfter: 1,
      logger,
    });
    expect(await ref.handleCmd(inc(1))).toMatchObject({ seqNo: 1 });
    await until(() => snapshotStore.waiting === 1);
    // The first save hangs until released, yet every reply arrives.
    for (let i = 2; i <= 3; i++) expect(await ref.handleCmd(inc(1))).toMatchObject({ seqNo: i });
    snapshotStore.releaseAll();
    await until(() => snapshotStore.waiting === 1);
    snapshotStore.releaseAll();
    await ref.stop();
    expect(ref.stats.snapshotSaveFailures).toBe(2);
    expect(ref.status).toBe("stopped");
    expect(
      logger.lines.filter((l) => l.level === "warn" && l.message.startsWith("snapshot save failed")),
    ).toHaveLength(2);
  });

  it("an always-failing snapshot store never fails a command", async () => {
    const snapshotStore = new FailingSnapshotStore();
    const ref = await Entity.spawn("c1", counter, {
      evtLog: new InMemoryEvtLog(),
      snapshotStore,
      snapshotAfter: 1,
      logger: new RecordingLogger(),
    });
    for (let i = 1; i <= 10; i++) {
      await ref.handleCmd(inc(1));
      await settle();
    }
    await ref.stop();
    expect(ref.stats.snapshotSaveFailures).toBe(snapshotStore.saves);
    expect(ref.stats.commandsAccepted).toBe(10);
  });

  it("stop() waits for the snapshot save in flight", async () => {
    const snapshotStore = new GatedSnapshotStore();
    const ref = await Entity.spawn("c1", counter, {
      evtLog: new InMemoryEvtLog(),
      snapshotStore,
      snapshotAfter: 1,
    });
    await ref.handleCmd(inc(1));
    await until(() => snapshotStore.waiting === 1);
    let stopped = false;
    const stopping = ref.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);
    expect(ref.status).toBe("stopping");
    snapshotStore.releaseAll();
    await stopping;
    expect(await snapshotStore.load("counter", "c1")).toMatchObject({ seqNo: 1 });
  });

  it("a spawn after snapshots recovers from the newest one", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    const first = await Entity.spawn("c1", counter, { evtLog, snapshotStore, snapshotAfter: 10 });
    for (let i = 0; i < 25; i++) await first.handleCmd(inc(2));
    await first.stop();
    expect(await snapshotStore.load("counter", "c1")).toMatchObject({ seqNo: 20 });
    const second = await Entity.spawn("c1", counter, { evtLog, snapshotStore });
    expect(await second.handleCmd({ type: "get" })).toMatchObject({ kind: "accepted", reply: 50, seqNo: 25 });
  });
});
