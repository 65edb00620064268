import {
  DecodeError,
  Entity,
  EntityStoppedError,
  type EvtLog,
  PersistError,
  RecoveryError,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import {
  counter,
  foldedLog,
  foreignIncreased,
  inc,
  logOf,
  RecordingLogger,
  settle,
  until,
} from "./fixtures.js";

const fastBackoff = { initialMs: 1, maxMs: 4 };

async function spawnOn(evtLog: EvtLog, logger = new RecordingLogger()) {
  return Entity.spawn("c1", counter, { evtLog, logger, retryBackoff: fastBackoff });
}

describe("Persist failures", () => {
  it("a persist failing before the write rejects with PersistError and leaves state and log unchanged", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await spawnOn(log);
    await ref.handleCmd(inc(1));
    log.failNextPersist({ afterWrite: false });

    const error = await ref.handleCmd({ type: "incMany", bys: [10, 20] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistError);
    expect((error as PersistError).outcomeUnknown).toBe(false);
    expect(ref.seqNo).toBe(1);
    expect(ref.stats.persistFailures).toBe(1);
    // Neither of the two events reached the log.
    expect(await logOf(log.inner, "c1")).toEqual([{ seqNo: 1, evt: { type: "increased", by: 1 } }]);
  });

  it("when the write did not happen, the next command sees exactly the log's truth", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await spawnOn(log);
    await ref.handleCmd(inc(1));
    log.failNextPersist({ afterWrite: false });
    await expect(ref.handleCmd(inc(10))).rejects.toBeInstanceOf(PersistError);

    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ kind: "accepted", reply: 1, seqNo: 1 });
    expect(await ref.handleCmd(inc(2))).toMatchObject({ kind: "accepted", reply: 3, seqNo: 2 });
    expect(await foldedLog(log.inner, "c1")).toBe(3);
  });

  it("when the write did happen (outcome unknown), the next command sees those events", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await spawnOn(log);
    await ref.handleCmd(inc(1));
    log.failNextPersist({ afterWrite: true });

    const error = await ref.handleCmd({ type: "incMany", bys: [10, 20] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistError);
    expect((error as PersistError).outcomeUnknown).toBe(true);
    // The caller was told it failed, so the entity has not applied anything yet...
    expect(ref.seqNo).toBe(1);

    // ...but before the next command it re-reads the log, where the write did land.
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ kind: "accepted", reply: 31, seqNo: 3 });
    expect(await ref.handleCmd(inc(2))).toMatchObject({ kind: "accepted", reply: 33, seqNo: 4 });
    expect(await foldedLog(log.inner, "c1")).toBe(33);
    expect(ref.stats.resyncs).toBe(1);
  });

  it("a non-conflict error from the log is wrapped in PersistError with outcome unknown", async () => {
    const inner = new InMemoryEvtLog();
    const driverError = new Error("socket hang up");
    const flaky: EvtLog = {
      persist: () => Promise.reject(driverError),
      lastSeqNo: (t, i) => inner.lastSeqNo(t, i),
      evtsById: (t, i, o) => inner.evtsById(t, i, o),
      evtsByType: (t, o) => inner.evtsByType(t, o),
    };
    const ref = await spawnOn(flaky);
    const error = await ref.handleCmd(inc(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistError);
    expect((error as PersistError).outcomeUnknown).toBe(true);
    expect((error as PersistError).cause).toBe(driverError);
  });

  it("while the log is unreachable, queued commands wait with backoff and all complete once it is back", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    const logger = new RecordingLogger();
    const ref = await spawnOn(log, logger);
    await ref.handleCmd(inc(1));
    log.failNextPersist({ afterWrite: true });
    log.failReads(Number.POSITIVE_INFINITY);
    await expect(ref.handleCmd(inc(10))).rejects.toBeInstanceOf(PersistError);

    const queued = [ref.handleCmd(inc(100)), ref.handleCmd(inc(1000)), ref.handleCmd({ type: "get" })];
    await until(() => logger.lines.filter((l) => l.level === "warn").length >= 3);
    expect(ref.stats.commandsAccepted).toBe(1);
    log.heal();

    expect(await Promise.all(queued)).toEqual([
      { kind: "accepted", reply: 111, seqNo: 3, position: 3 },
      { kind: "accepted", reply: 1111, seqNo: 4, position: 4 },
      { kind: "accepted", reply: 1111, seqNo: 4, position: undefined },
    ]);
    expect(await foldedLog(log.inner, "c1")).toBe(1111);
    expect(logger.lines.some((l) => l.message.includes("cannot re-read the log"))).toBe(true);
  });

  it("a command waiting for the log to come back can still give up, without effect", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    const logger = new RecordingLogger();
    const ref = await spawnOn(log, logger);
    log.failNextPersist({ afterWrite: false });
    log.failReads(Number.POSITIVE_INFINITY);
    await expect(ref.handleCmd(inc(1))).rejects.toBeInstanceOf(PersistError);
    const controller = new AbortController();
    const givingUp = ref.handleCmd(inc(2), { signal: controller.signal });
    const staying = ref.handleCmd(inc(3));
    await until(() => logger.lines.some((l) => l.level === "warn"));

    controller.abort(new Error("not waiting any longer"));
    await expect(givingUp).rejects.toThrow("not waiting any longer");
    log.heal();
    expect(await staying).toMatchObject({ kind: "accepted", reply: 3, seqNo: 1 });
    expect(await foldedLog(log.inner, "c1")).toBe(3);
  });

  it("stop() while the log stays unreachable rejects the queued commands with EntityStoppedError and fails the entity", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    const logger = new RecordingLogger();
    const ref = await spawnOn(log, logger);
    log.failNextPersist({ afterWrite: false });
    log.failReads(Number.POSITIVE_INFINITY);
    await expect(ref.handleCmd(inc(1))).rejects.toBeInstanceOf(PersistError);
    const queued = [ref.handleCmd(inc(2)), ref.handleCmd(inc(3))].map((p) => p.catch((e: unknown) => e));
    await until(() => logger.lines.some((l) => l.level === "warn"));

    await ref.stop();
    const errors = await Promise.all(queued);
    for (const error of errors) {
      expect(error).toBeInstanceOf(EntityStoppedError);
      expect((error as EntityStoppedError).cause).toMatchObject({
        message: "injected: the log is unreachable",
      });
    }
    expect(ref.status).toBe("failed");
    const termination = await ref.whenStopped;
    expect(termination.reason).toBe("failed");
    expect(termination.reason === "failed" && termination.error).toBeInstanceOf(RecoveryError);
    await expect(ref.handleCmd(inc(4))).rejects.toBeInstanceOf(EntityStoppedError);
  });

  it("a failed re-synchronisation during a conflict re-run fails the entity for good, even if the log comes back", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    const logger = new RecordingLogger();
    // A backoff so long that only stop() ends the wait.
    const ref = await Entity.spawn("c1", counter, {
      evtLog: log,
      logger,
      retryBackoff: { initialMs: 600_000 },
    });
    await ref.handleCmd(inc(1));
    log.conflictNextPersist(foreignIncreased(10));
    // Two failing reads: the conflict's re-synchronisation, and its last attempt once stop() is called.
    // The third read would succeed: a failed entity must not make it.
    log.failReads(2);
    const conflicted = ref.handleCmd(inc(2)).catch((e: unknown) => e);
    const queued = ref.handleCmd(inc(3)).catch((e: unknown) => e);
    await until(() => logger.lines.some((l) => l.level === "warn"));
    await ref.stop();

    expect(await conflicted).toBeInstanceOf(EntityStoppedError);
    expect(await queued).toBeInstanceOf(EntityStoppedError);
    expect(ref.status).toBe("failed");
    expect(await foldedLog(log.inner, "c1")).toBe(11);
  });

  it("a resync that meets an undecodable event fails the entity with a DecodeError naming the seqNo", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await spawnOn(log);
    await ref.handleCmd(inc(1));
    // Another writer appends garbage; our next persist conflicts, and re-reading meets the garbage.
    log.conflictNextPersist({ bytes: new Uint8Array([0xff, 0x00, 0x7b]), contentType: "application/json" });
    const first = await ref.handleCmd(inc(2)).catch((e: unknown) => e);
    const later = await ref.handleCmd(inc(3)).catch((e: unknown) => e);

    expect(first).toBeInstanceOf(EntityStoppedError);
    expect((first as EntityStoppedError).cause).toBeInstanceOf(DecodeError);
    expect((first as EntityStoppedError).cause).toMatchObject({
      what: "event",
      type: "counter",
      id: "c1",
      seqNo: 2,
    });
    expect(later).toBeInstanceOf(EntityStoppedError);
    expect(ref.status).toBe("failed");
    const termination = await ref.whenStopped;
    expect(termination).toMatchObject({ reason: "failed", error: { code: "DECODE_FAILED", seqNo: 2 } });
    expect(await foldedLog(log.inner, "c1").catch(() => "garbage in log")).toBe("garbage in log");
  });

  it("failure-injected persists under concurrent load never leave the log half-updated", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await spawnOn(log);
    const acknowledged: number[] = [];
    const calls: Promise<void>[] = [];
    for (let i = 1; i <= 60; i++) {
      if (i % 7 === 0) log.failNextPersist({ afterWrite: i % 2 === 0 });
      calls.push(
        ref.handleCmd({ type: "incMany", bys: [i, i] }).then(
          () => void acknowledged.push(i),
          () => undefined,
        ),
      );
      if (i % 10 === 0) await settle();
    }
    await Promise.all(calls);
    const evts = await logOf(log.inner, "c1");
    // Events come in whole pairs only, and every acknowledged command's pair is there exactly once.
    expect(evts.length % 2).toBe(0);
    const pairs = [];
    for (let k = 0; k < evts.length; k += 2) {
      expect(evts[k]!.evt).toEqual(evts[k + 1]!.evt);
      pairs.push(evts[k]!.evt.by);
    }
    for (const i of acknowledged) expect(pairs.filter((by) => by === i)).toHaveLength(1);
    expect(new Set(pairs).size).toBe(pairs.length);
    // And the entity's state is the fold of the log.
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: await foldedLog(log.inner, "c1") });
  });
});
