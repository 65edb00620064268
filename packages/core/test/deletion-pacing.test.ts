import {
  DeletionPacer,
  defineEntity,
  deleteEntity,
  Entity,
  type EvtsDeleted,
  emitAndReply,
  InvalidArgumentError,
  type NewEvt,
  type PacerClock,
  reply,
  runRetention,
} from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";

// Background deletion is paced (ADR 0115): at most `batchSize` events per call to the log, each call
// waiting for the rate (`maxEventsPerSecond`), a pause (`pauseMs`) and a free slot (`concurrency`).

const EVT: NewEvt = { bytes: new TextEncoder().encode("{}"), contentType: "application/json" };

/** An in-memory log that records every deletion call: how far it was asked to go and what it removed. */
class RecordingLog extends InMemoryEvtLog {
  readonly calls: { readonly from: number; readonly to: number; readonly removed: number }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Runs after each deletion call (e.g. to advance a fake clock, or abort). */
  afterCall: () => void = () => {};

  override async deleteEvts(type: string, id: string, toSeqNo: number): Promise<EvtsDeleted> {
    const from = await this.deletedTo(type, id);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      // A turn of the event loop, so that calls that could overlap do.
      await new Promise(setImmediate);
      const done = await super.deleteEvts(type, id, toSeqNo);
      this.calls.push({ from, to: toSeqNo, removed: done.removed });
      this.afterCall();
      return done;
    } finally {
      this.inFlight--;
    }
  }
}

/** Time that passes only when the pacer sleeps (or a test advances it); records every sleep. */
class FakeClock implements PacerClock {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
}

async function fill(log: InMemoryEvtLog, id: string, count: number): Promise<void> {
  for (let seqNo = 0; seqNo < count; seqNo += 500) {
    await log.persist(
      "thing",
      id,
      seqNo,
      Array.from({ length: Math.min(500, count - seqNo) }, () => EVT),
    );
  }
}

async function stateOf(log: InMemoryEvtLog, id: string) {
  const seqNos: number[] = [];
  for await (const r of log.evtsById("thing", id, { from: 1 })) seqNos.push(r.seqNo);
  return { last: await log.lastSeqNo("thing", id), deletedTo: await log.deletedTo("thing", id), seqNos };
}

describe("Deletion pacing", () => {
  it("a paced deletion leaves the same state as an unpaced one, and no call deletes more than a batch", async () => {
    const paced = new RecordingLog();
    const unpaced = new InMemoryEvtLog();
    await fill(paced, "t", 4_321);
    await fill(unpaced, "t", 4_321);
    const clock = new FakeClock();
    const pacing = new DeletionPacer({ maxEventsPerSecond: 10_000 }, clock);
    const done = await deleteEntity("thing", "t", { evtLog: paced, batchSize: 1_000, pacing });
    const plain = await deleteEntity("thing", "t", {
      evtLog: unpaced,
      batchSize: 1_000,
      pacing: { maxEventsPerSecond: Number.POSITIVE_INFINITY },
    });
    expect(done).toEqual(plain);
    expect(await stateOf(paced, "t")).toEqual(await stateOf(unpaced, "t"));
    expect(paced.calls.length).toBe(5);
    for (const call of paced.calls) expect(call.to - call.from).toBeLessThanOrEqual(1_000);
    expect(paced.calls.reduce((sum, c) => sum + c.removed, 0)).toBe(4_321);
  });

  it("pauses between batches for as long as the rate asks: 1,000 events at 10,000 events/s -> 100 ms", async () => {
    const log = new RecordingLog();
    await fill(log, "t", 3_000);
    const clock = new FakeClock();
    const pacing = new DeletionPacer({ maxEventsPerSecond: 10_000 }, clock);
    await deleteEntity("thing", "t", { evtLog: log, batchSize: 1_000, pacing });
    // Three batches: the first starts at once, each of the next two waits for the one before.
    expect(clock.sleeps).toEqual([100, 100]);
  });

  it("counts the time a batch took against its pause", async () => {
    const log = new RecordingLog();
    await fill(log, "t", 3_000);
    const clock = new FakeClock();
    log.afterCall = () => {
      clock.time += 30;
    };
    const pacing = new DeletionPacer({ maxEventsPerSecond: 10_000 }, clock);
    await deleteEntity("thing", "t", { evtLog: log, batchSize: 1_000, pacing });
    expect(clock.sleeps).toEqual([70, 70]);
  });

  it("makes up for a pause that ended late, so the rate holds on average", async () => {
    const log = new RecordingLog();
    await fill(log, "t", 3_000);
    const clock = new FakeClock();
    // Every sleep overshoots by 5 ms, as timers do.
    clock.sleep = async (ms) => {
      clock.sleeps.push(ms);
      clock.time += ms + 5;
    };
    const pacing = new DeletionPacer({ maxEventsPerSecond: 10_000 }, clock);
    await deleteEntity("thing", "t", { evtLog: log, batchSize: 1_000, pacing });
    expect(clock.sleeps).toEqual([100, 95]);
  });

  it("saves no budget while idle: after a quiet spell only the first batch starts at once", async () => {
    const log = new RecordingLog();
    for (const id of ["a", "b"]) await fill(log, id, 2_000);
    const clock = new FakeClock();
    const pacing = new DeletionPacer({ maxEventsPerSecond: 10_000 }, clock);
    await deleteEntity("thing", "a", { evtLog: log, batchSize: 1_000, pacing });
    clock.time += 60_000;
    await deleteEntity("thing", "b", { evtLog: log, batchSize: 1_000, pacing });
    expect(clock.sleeps).toEqual([100, 100]);
  });

  it("adds pauseMs after every batch, also without a rate limit", async () => {
    const log = new RecordingLog();
    await fill(log, "t", 2_501);
    const clock = new FakeClock();
    const pacing = new DeletionPacer({ maxEventsPerSecond: Number.POSITIVE_INFINITY, pauseMs: 7 }, clock);
    await deleteEntity("thing", "t", { evtLog: log, batchSize: 1_000, pacing });
    expect(clock.sleeps).toEqual([7, 7]);
  });

  it("a shared pacer holds a sweep over many entities to one budget", async () => {
    const log = new RecordingLog();
    for (const id of ["a", "b", "c"]) await fill(log, id, 500);
    const clock = new FakeClock();
    const pacing = new DeletionPacer({ maxEventsPerSecond: 5_000 }, clock);
    for (const id of ["a", "b", "c"]) await deleteEntity("thing", id, { evtLog: log, pacing });
    // 500 events each at 5,000 events/s: 100 ms before each entity after the first.
    expect(clock.sleeps).toEqual([100, 100]);
  });

  it("a shared pacer with concurrency 1 never has two batches in flight", async () => {
    const log = new RecordingLog();
    for (const id of ["a", "b", "c"]) await fill(log, id, 2_000);
    const pacing = new DeletionPacer({ maxEventsPerSecond: Number.POSITIVE_INFINITY, concurrency: 1 });
    await Promise.all(
      ["a", "b", "c"].map((id) => deleteEntity("thing", id, { evtLog: log, batchSize: 500, pacing })),
    );
    expect(log.maxInFlight).toBe(1);
    expect(log.calls.length).toBe(12);
  });

  it("a shared pacer with concurrency 2 lets two batches run at once, never three", async () => {
    const log = new RecordingLog();
    for (const id of ["a", "b", "c"]) await fill(log, id, 2_000);
    const pacing = new DeletionPacer({ maxEventsPerSecond: Number.POSITIVE_INFINITY, concurrency: 2 });
    await Promise.all(
      ["a", "b", "c"].map((id) => deleteEntity("thing", id, { evtLog: log, batchSize: 500, pacing })),
    );
    expect(log.maxInFlight).toBe(2);
  });

  it("an abort of runRetention during a pause stops it at once", async () => {
    const log = new RecordingLog();
    const snapshotStore = new InMemorySnapshotStore();
    await fill(log, "t", 2_500);
    await snapshotStore.save("thing", "t", {
      seqNo: 2_500,
      bytes: new TextEncoder().encode("0"),
      contentType: "application/json",
    });
    const abort = new AbortController();
    log.afterCall = () => setTimeout(() => abort.abort(new Error("shutting down")), 5);
    const run = runRetention("thing", "t", {
      evtLog: log,
      snapshotStore,
      policy: { batchSize: 1_000, pacing: { maxEventsPerSecond: 1 } },
      signal: abort.signal,
    });
    await expect(run).rejects.toThrow("shutting down");
    expect((await stateOf(log, "t")).deletedTo).toBe(1_000);
  });

  it("an abort during a pause stops the deletion at once; running it again finishes", async () => {
    const log = new RecordingLog();
    await fill(log, "t", 3_001);
    const abort = new AbortController();
    // After the first batch the real clock waits 1,000 s: only the abort, made during that pause, ends it.
    log.afterCall = () => setTimeout(() => abort.abort(new Error("stopped by the operator")), 5);
    const pacing = { maxEventsPerSecond: 1 };
    const deletion = deleteEntity("thing", "t", {
      evtLog: log,
      batchSize: 1_000,
      pacing,
      signal: abort.signal,
    });
    await expect(deletion).rejects.toThrow("stopped by the operator");
    expect(log.calls.length).toBe(1);
    expect((await stateOf(log, "t")).deletedTo).toBe(1_000);
    await deleteEntity("thing", "t", {
      evtLog: log,
      pacing: { maxEventsPerSecond: Number.POSITIVE_INFINITY },
    });
    expect(await stateOf(log, "t")).toEqual({ last: 3_001, deletedTo: 3_001, seqNos: [] });
  });

  it("an abort while waiting for a slot stops that deletion and leaves the others running", async () => {
    const log = new RecordingLog();
    for (const id of ["a", "b"]) await fill(log, id, 2_000);
    const pacing = new DeletionPacer({ maxEventsPerSecond: Number.POSITIVE_INFINITY, concurrency: 1 });
    const abort = new AbortController();
    log.afterCall = () => abort.abort(new Error("b is not wanted"));
    const a = deleteEntity("thing", "a", { evtLog: log, batchSize: 500, pacing });
    const b = deleteEntity("thing", "b", { evtLog: log, batchSize: 500, pacing, signal: abort.signal });
    await expect(b).rejects.toThrow("b is not wanted");
    await a;
    expect((await stateOf(log, "a")).deletedTo).toBe(2_000);
    expect((await stateOf(log, "b")).deletedTo).toBe(0);
  });

  it("runRetention paces its batches by the policy's pacing", async () => {
    const log = new RecordingLog();
    const snapshotStore = new InMemorySnapshotStore();
    await fill(log, "t", 2_500);
    await snapshotStore.save("thing", "t", {
      seqNo: 2_500,
      bytes: new TextEncoder().encode("0"),
      contentType: "application/json",
    });
    const clock = new FakeClock();
    const pacing = new DeletionPacer({ maxEventsPerSecond: 20_000 }, clock);
    const outcome = await runRetention("thing", "t", {
      evtLog: log,
      snapshotStore,
      policy: { batchSize: 1_000, pacing },
    });
    expect(outcome).toEqual({ deletedTo: 2_500, removed: 2_500, heldBack: "nothing" });
    expect(clock.sleeps).toEqual([50, 50]);
  });
});

type Doc = { readonly lines: number };
type DocCmd = { readonly type: "write"; readonly lines: number } | { readonly type: "shred" };
type DocEvt = { readonly type: "line" } | { readonly type: "shredded" };

const doc = defineEntity<Doc, DocCmd, DocEvt, number>({
  typeName: "thing",
  initialState: () => ({ lines: 0 }),
  handleCmd: (state, cmd) => {
    const evts: DocEvt[] =
      cmd.type === "write"
        ? Array.from({ length: cmd.lines }, () => ({ type: "line" }))
        : [{ type: "shredded" }];
    return evts.length === 0 ? reply(state.lines) : emitAndReply<Doc, DocEvt, number>(evts, (s) => s.lines);
  },
  handleEvt: (state, evt) => (evt.type === "line" ? { lines: state.lines + 1 } : { lines: 0 }),
});

describe("Deletion pacing in the background", () => {
  it("the deletion after a tombstone goes in paced batches and deletes everything before it", async () => {
    const evtLog = new RecordingLog();
    const clock = new FakeClock();
    const pacing = new DeletionPacer({ maxEventsPerSecond: 10_000 }, clock);
    const retention = { isTombstone: (evt: DocEvt) => evt.type === "shredded", batchSize: 1_000, pacing };
    const ref = await Entity.spawn("d", doc, { evtLog, retention });
    await ref.handleCmd({ type: "write", lines: 2_500 });
    await ref.handleCmd({ type: "shred" });
    // Not stopped yet (a stop would hurry the deletion): wait for it to finish on its own.
    while ((await evtLog.deletedTo("thing", "d")) < 2_500) await new Promise((r) => setTimeout(r, 1));
    await ref.stop();
    expect(await stateOf(evtLog, "d")).toEqual({ last: 2_501, deletedTo: 2_500, seqNos: [2_501] });
    expect(evtLog.calls.map((c) => c.to - c.from)).toEqual([1_000, 1_000, 500]);
    expect(clock.sleeps).toEqual([100, 100]);
  });

  it("stopping the entity during a pause finishes its deletion at once, unpaced", async () => {
    const evtLog = new RecordingLog();
    // After the first batch the real clock waits 1,000 s: only the stop can end the pause.
    const retention = {
      isTombstone: (evt: DocEvt) => evt.type === "shredded",
      batchSize: 1_000,
      pacing: { maxEventsPerSecond: 1 },
    };
    const ref = await Entity.spawn("d", doc, { evtLog, retention });
    await ref.handleCmd({ type: "write", lines: 3_500 });
    const firstBatch = new Promise<void>((resolve) => {
      evtLog.afterCall = resolve;
    });
    await ref.handleCmd({ type: "shred" });
    await firstBatch;
    await ref.stop();
    expect(await stateOf(evtLog, "d")).toEqual({ last: 3_501, deletedTo: 3_500, seqNos: [3_501] });
    expect(evtLog.calls.map((c) => c.to - c.from)).toEqual([1_000, 1_000, 1_000, 500]);
  });

  it("a stop hurries only its own entity: another entity sharing the pacer stays paced", async () => {
    const evtLog = new RecordingLog();
    const clock = new FakeClock();
    const pacing = new DeletionPacer({ maxEventsPerSecond: 10_000 }, clock);
    const retention = { isTombstone: (evt: DocEvt) => evt.type === "shredded", batchSize: 1_000, pacing };
    const stopped = await Entity.spawn("stopped", doc, { evtLog, retention });
    const running = await Entity.spawn("running", doc, { evtLog, retention });
    for (const ref of [stopped, running]) await ref.handleCmd({ type: "write", lines: 2_000 });
    await stopped.handleCmd({ type: "shred" });
    await stopped.stop();
    expect(clock.sleeps).toEqual([]);
    await running.handleCmd({ type: "shred" });
    while ((await evtLog.deletedTo("thing", "running")) < 2_000) await new Promise((r) => setTimeout(r, 1));
    // The stopped entity's 2,000 events went unpaced and unaccounted; the running one's are paced.
    expect(clock.sleeps).toEqual([100]);
    await running.stop();
  });
});

describe("Pacing options from a hostile caller", () => {
  const bad: [string, unknown, RegExp][] = [
    ["a zero rate", { maxEventsPerSecond: 0 }, /pacing\.maxEventsPerSecond must be a number > 0/],
    ["a negative rate", { maxEventsPerSecond: -5 }, /pacing\.maxEventsPerSecond/],
    ["a NaN rate", { maxEventsPerSecond: Number.NaN }, /pacing\.maxEventsPerSecond/],
    ["a rate as a string", { maxEventsPerSecond: "1000" }, /pacing\.maxEventsPerSecond/],
    ["a negative pause", { pauseMs: -1 }, /pacing\.pauseMs must be a finite number >= 0/],
    ["an infinite pause", { pauseMs: Number.POSITIVE_INFINITY }, /pacing\.pauseMs/],
    ["a zero concurrency", { concurrency: 0 }, /pacing\.concurrency must be an integer >= 1/],
    ["a fractional concurrency", { concurrency: 1.5 }, /pacing\.concurrency/],
    ["pacing that is a number", 5, /pacing must be an object or a DeletionPacer/],
    ["pacing that is null", null, /pacing must be an object or a DeletionPacer/],
  ];

  it.each(bad)(
    "deleteEntity with %s rejects with InvalidArgumentError and deletes nothing",
    async (_, pacing, message) => {
      const log = new InMemoryEvtLog();
      await fill(log, "t", 10);
      const error = await deleteEntity("thing", "t", { evtLog: log, pacing: pacing as never }).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toMatch(message);
      expect((await stateOf(log, "t")).deletedTo).toBe(0);
    },
  );

  it.each(bad)(
    "a retention policy with %s refuses the spawn, naming retention.pacing",
    async (_, pacing, message) => {
      const retention = { isTombstone: () => false, pacing: pacing as never };
      const error = await Promise.resolve()
        .then(() => Entity.spawn("d", doc, { evtLog: new InMemoryEvtLog(), retention }))
        .catch((e) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toMatch(/retention\.pacing/);
      expect(error.message).toMatch(message);
    },
  );

  it("runRetention with a bad pacing rejects with InvalidArgumentError naming retention.pacing", async () => {
    const log = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    const policy = { pacing: { pauseMs: -1 } };
    const error = await runRetention("thing", "t", { evtLog: log, snapshotStore, policy }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/retention\.pacing\.pauseMs/);
  });

  it("the DeletionPacer constructor validates too", () => {
    expect(() => new DeletionPacer({ concurrency: 0 })).toThrow(InvalidArgumentError);
    expect(new DeletionPacer().pacing).toEqual({ maxEventsPerSecond: 60_000, pauseMs: 0, concurrency: 1 });
    expect(new DeletionPacer({ pauseMs: undefined }).pacing.pauseMs).toBe(0);
  });
});
