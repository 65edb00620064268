import { DeletionPacer, deleteEntity, runRetention } from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { FakeClock, fill, RecordingLog, stateOf } from "./deletion-pacing-fixtures.js";

// Background deletion is paced (ADR 0115): at most `batchSize` events per call to the log, each call
// waiting for the rate (`maxEventsPerSecond`), a pause (`pauseMs`) and a free slot (`concurrency`).

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

  it("a signal that aborts after a batch got its slot but before its wait ends the wait at once", async () => {
    // Real clock: after a first batch of 1,000 at one event per second the next would wait 1,000 s.
    const pacer = new DeletionPacer({ maxEventsPerSecond: 1 });
    await pacer.batch(async () => ({ removed: 1_000 }));
    const hurry = new AbortController();
    const ran: number[] = [];
    const next = pacer.batch(async () => {
      ran.push(1);
      return { removed: 1 };
    }, hurry.signal);
    // The slot is granted synchronously; the abort lands before the wait begins.
    hurry.abort(new Error("hurried"));
    await expect(next).rejects.toThrow("hurried");
    expect(ran).toEqual([]);
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
