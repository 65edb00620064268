import { DeletionPacer, EntityRegistry, type EvtLog } from "@eventsourced/core";
import { describe, expect, it } from "vitest";
import { type DocEvt, doc, FakeClock, RecordingLog, stateOf } from "./deletion-pacing-fixtures.js";
import { RecordingLogger } from "./fixtures.js";

// A registry's passivation and the background deletion an entity asked for (ADR 0120): after an automatic
// passivation (here the active limit of one) the deletion stays paced; the id's next recovery, and
// `close()`, wait for it. An explicit passivate() waits for it, hurried, as stop() does.

const isTombstone = (evt: DocEvt) => evt.type === "shredded";

/**
 * A registry on `evtLog` with one entity resident at most, deleting one event per second: without a hurry,
 * thousands would take an hour.
 */
function slowlyDeleting(evtLog: RecordingLog) {
  return new EntityRegistry(doc, {
    evtLog,
    passivation: { maxActive: 1 },
    retention: { isTombstone, batchSize: 1_000, pacing: { maxEventsPerSecond: 1 } },
  });
}

/** Passivates the one resident entity of `registry` (active limit 1) by spawning "x", which emits nothing. */
async function passivateByLimit(registry: ReturnType<typeof slowlyDeleting>): Promise<void> {
  await registry.send("x", { type: "write", lines: 0 });
}

/**
 * Entities "a" and "b" of a slowly deleting registry, 2,000 events each, shredded and passivated: a's
 * erasure has deleted its first batch and waits for its pacer, b's is queued behind it.
 */
async function twoPassivatedMidErasure() {
  const evtLog = new RecordingLog();
  const registry = slowlyDeleting(evtLog);
  for (const id of ["a", "b"]) await registry.send(id, { type: "write", lines: 2_000 });
  const firstBatch = nextDeletion(evtLog);
  // Each spawn passivates the other entity: a's erasure starts, then b's queues behind it.
  for (const id of ["a", "b"]) await registry.send(id, { type: "shred" });
  await firstBatch;
  await passivateByLimit(registry);
  return { evtLog, registry };
}

/** Entity "d" of a slowly deleting registry, 3,500 events, shredded: its erasure has deleted 1,000. */
async function oneShreddedMidErasure() {
  const evtLog = new RecordingLog();
  const registry = slowlyDeleting(evtLog);
  await registry.send("d", { type: "write", lines: 3_500 });
  const firstBatch = nextDeletion(evtLog);
  await registry.send("d", { type: "shred" });
  await firstBatch;
  return { evtLog, registry };
}

/** A registry deleting unpaced that keeps ids `other-*` on `otherLog` (`evtLogFor`) and the rest on `defaultLog`. */
function onTwoLogs(defaultLog: RecordingLog, otherLog: EvtLog, logger?: RecordingLogger) {
  return new EntityRegistry(doc, {
    evtLog: defaultLog,
    evtLogFor: (id) => (id.startsWith("other-") ? otherLog : defaultLog),
    retention: { isTombstone, batchSize: 1_000 },
    logger,
  });
}

/** Writes ten lines to `id` through `registry`, then shreds it (the tombstone at seqNo 11). */
async function tenLinesShredded(registry: ReturnType<typeof onTwoLogs>, id: string): Promise<void> {
  await registry.send(id, { type: "write", lines: 10 });
  await registry.send(id, { type: "shred" });
}

/** "other-1" (ten lines, then its tombstone) is erased on `otherLog`; nothing was deleted on `defaultLog`. */
async function expectErasedOnOtherLogOnly(defaultLog: RecordingLog, otherLog: RecordingLog): Promise<void> {
  expect(await stateOf(otherLog, "other-1")).toEqual({ last: 11, deletedTo: 10, seqNos: [11] });
  expect(defaultLog.calls).toEqual([]);
}

/** Resolves after the next deletion call of `log`. */
function nextDeletion(log: RecordingLog): Promise<void> {
  return new Promise<void>((resolve) => {
    log.afterCall = resolve;
  });
}

/** Resolves once `log` has deleted `id` up to `to`. */
async function deletedUpTo(log: RecordingLog, id: string, to: number): Promise<void> {
  while ((await log.deletedTo("thing", id)) < to) await new Promise((r) => setTimeout(r, 1));
}

describe("EntityRegistry: background deletion across passivation", () => {
  it("a passivated entity's erasure goes on paced, not hurried", async () => {
    const evtLog = new RecordingLog();
    const clock = new FakeClock();
    const pacing = new DeletionPacer({ maxEventsPerSecond: 10_000 }, clock);
    const registry = new EntityRegistry(doc, {
      evtLog,
      passivation: { maxActive: 1 },
      retention: { isTombstone, batchSize: 1_000, pacing },
    });
    await registry.send("d", { type: "write", lines: 2_500 });
    // The first batch is under way when the entity is passivated.
    const firstBatch = nextDeletion(evtLog);
    await registry.send("d", { type: "shred" });
    await firstBatch;
    await passivateByLimit(registry);
    expect(registry.phase("d")).toBeUndefined();
    await deletedUpTo(evtLog, "d", 2_500);
    expect(await stateOf(evtLog, "d")).toEqual({ last: 2_501, deletedTo: 2_500, seqNos: [2_501] });
    // Every batch after the first waited for the pacer (a hurried deletion sleeps never).
    expect(clock.sleeps).toEqual([100, 100]);
    await registry.close();
  });

  it("the id's next recovery hurries the deletion its passivated incarnation left, and waits for it", async () => {
    const { evtLog, registry } = await oneShreddedMidErasure();
    await passivateByLimit(registry);
    expect(await evtLog.deletedTo("thing", "d")).toBe(1_000);
    // The command respawns the entity: its recovery waits for the rest of the deletion.
    const result = await registry.send("d", { type: "write", lines: 1 });
    expect(result).toMatchObject({ kind: "accepted", reply: 1 });
    expect(await stateOf(evtLog, "d")).toEqual({ last: 3_502, deletedTo: 3_500, seqNos: [3_501, 3_502] });
    expect(evtLog.calls.map((c) => c.to - c.from)).toEqual([1_000, 1_000, 1_000, 500]);
    await registry.close();
  });

  it("an explicit passivate() waits for the entity's deletion, hurried, as stop() does", async () => {
    const { evtLog, registry } = await oneShreddedMidErasure();
    await registry.passivate("d");
    expect(await stateOf(evtLog, "d")).toEqual({ last: 3_501, deletedTo: 3_500, seqNos: [3_501] });
    await registry.close();
  });

  it("a recovery does not wait for other entities' paced deletion", async () => {
    const { evtLog, registry } = await twoPassivatedMidErasure();
    await registry.send("b", { type: "write", lines: 1 });
    expect(await stateOf(evtLog, "b")).toEqual({ last: 2_002, deletedTo: 2_000, seqNos: [2_001, 2_002] });
    expect(await evtLog.deletedTo("thing", "a")).toBe(1_000);
    await registry.close();
    expect((await stateOf(evtLog, "a")).deletedTo).toBe(2_000);
  });

  it("close() finishes what passivated entities left of their deletion", async () => {
    const { evtLog, registry } = await twoPassivatedMidErasure();
    await registry.close();
    for (const id of ["a", "b"]) {
      expect(await stateOf(evtLog, id)).toEqual({ last: 2_001, deletedTo: 2_000, seqNos: [2_001] });
    }
  });

  it("deletes on the log `evtLogFor` gives the entity, not on the registry's default log", async () => {
    const defaultLog = new RecordingLog();
    const otherLog = new RecordingLog();
    const registry = onTwoLogs(defaultLog, otherLog);
    await tenLinesShredded(registry, "other-1");
    await registry.close();
    await expectErasedOnOtherLogOnly(defaultLog, otherLog);
  });

  it("finishes an erasure found at recovery on the entity's own log too", async () => {
    const defaultLog = new RecordingLog();
    const otherLog = new RecordingLog();
    // Written and shredded without retention: the tombstone's deletion never ran.
    const writer = new EntityRegistry(doc, { evtLog: otherLog });
    await tenLinesShredded(writer, "other-1");
    await writer.close();
    const registry = onTwoLogs(defaultLog, otherLog);
    await registry.send("other-1", { type: "write", lines: 0 });
    await registry.close();
    await expectErasedOnOtherLogOnly(defaultLog, otherLog);
  });

  it("an entity whose `evtLogFor` log cannot delete is left undeleted, with a warning", async () => {
    const defaultLog = new RecordingLog();
    const inner = new RecordingLog();
    // Reads and writes only: no deleteEvts, deletedTo or resetEntity.
    const appendOnly: EvtLog = {
      persist: (type, id, expected, evts) => inner.persist(type, id, expected, evts),
      lastSeqNo: (type, id) => inner.lastSeqNo(type, id),
      evtsById: (type, id, options) => inner.evtsById(type, id, options),
      evtsByType: (type, options) => inner.evtsByType(type, options),
    };
    const logger = new RecordingLogger();
    const registry = onTwoLogs(defaultLog, appendOnly, logger);
    await tenLinesShredded(registry, "other-1");
    await registry.close();
    expect(await stateOf(inner, "other-1")).toMatchObject({ last: 11, deletedTo: 0 });
    expect(defaultLog.calls).toEqual([]);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: "warn", message: expect.stringMatching(/cannot delete events/) }),
    );
  });
});
