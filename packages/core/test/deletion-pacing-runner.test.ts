import { DeletionPacer, deleteEntity, Entity, InvalidArgumentError, runRetention } from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { type DocEvt, doc, FakeClock, fill, RecordingLog, stateOf } from "./deletion-pacing-fixtures.js";

// The pacing of an entity type's background deletion (retention runs, erasure after a tombstone), what a
// stop does to it, and pacing options refused.

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
