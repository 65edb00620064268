import {
  DecodeError,
  Entity,
  EventsDeletedError,
  InvalidArgumentError,
  jsonBinarizer,
  jsonToBytes,
  type RetentionHorizon,
  runRetention,
  silentLogger,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { type CounterEvt, counter, foldedLog, inc, RecordingLogger, settle } from "./fixtures.js";

/** Every event of the counter still in the log, as seqNos. */
async function storedSeqNos(log: InMemoryEvtLog, id: string): Promise<number[]> {
  const seqNos: number[] = [];
  for await (const r of log.evtsById("counter", id, { from: 1 })) seqNos.push(r.seqNo);
  return seqNos;
}

/** A log that counts the events recovery reads. */
class ReadCountingLog extends InMemoryEvtLog {
  read = 0;
  override async *evtsById(...args: Parameters<InMemoryEvtLog["evtsById"]>) {
    for await (const record of super.evtsById(...args)) {
      this.read++;
      yield record;
    }
  }
}

/**
 * Sends the commands one by one, letting the event loop turn after each: snapshot saves start on a later
 * turn, and the in-memory log never yields to one on its own, so without this the scheduler would coalesce
 * every snapshot of the loop into the last one.
 */
async function send(ref: { handleCmd(cmd: ReturnType<typeof inc>): Promise<unknown> }, cmds: number[]) {
  for (const by of cmds) {
    await ref.handleCmd(inc(by));
    await settle();
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("Retention: snapshot every N, keep K, delete the events the oldest kept snapshot covers", () => {
  it("deletes the events up to the oldest kept snapshot in the background; the head and the value survive", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore({ history: 2 });
    const retention = { snapshotEvery: 10, keepSnapshots: 2, deleteEvents: true };
    const ref = await Entity.spawn("c", counter, { evtLog, snapshotStore, retention });
    await send(ref, range(1, 55));
    await ref.stop();
    expect((await snapshotStore.loadAll("counter", "c")).map((s) => s.seqNo)).toEqual([50, 40]);
    expect(await evtLog.deletedTo("counter", "c")).toBe(40);
    expect(await storedSeqNos(evtLog, "c")).toEqual(range(41, 55));
    expect(await evtLog.lastSeqNo("counter", "c")).toBe(55);
    const again = await Entity.spawn("c", counter, { evtLog, snapshotStore, retention });
    expect(await again.handleCmd({ type: "get" })).toMatchObject({ reply: (55 * 56) / 2, seqNo: 55 });
  });

  it("recovery then reads one snapshot and at most N events", async () => {
    const evtLog = new ReadCountingLog();
    const snapshotStore = new InMemorySnapshotStore({ history: 2 });
    const retention = { snapshotEvery: 100, keepSnapshots: 2, deleteEvents: true };
    const ref = await Entity.spawn("c", counter, { evtLog, snapshotStore, retention });
    await send(
      ref,
      range(1, 1_234).map(() => 1),
    );
    await ref.stop();
    expect((await storedSeqNos(evtLog, "c")).length).toBeLessThanOrEqual(2 * 100);
    evtLog.read = 0;
    const again = await Entity.spawn("c", counter, { evtLog, snapshotStore, retention });
    expect(evtLog.read).toBe(34);
    expect(await again.handleCmd({ type: "get" })).toMatchObject({ reply: 1_234 });
  });

  it("keeps every event without deleteEvents, and prunes snapshots to the store's history", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore({ history: 2 });
    const ref = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      retention: { snapshotEvery: 5, keepSnapshots: 2 },
    });
    await send(
      ref,
      range(1, 23).map(() => 1),
    );
    await ref.stop();
    expect((await snapshotStore.loadAll("counter", "c")).map((s) => s.seqNo)).toEqual([20, 15]);
    expect(await storedSeqNos(evtLog, "c")).toEqual(range(1, 23));
  });

  it("runs while the entity keeps handling commands, and never loses one", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore({ history: 3 });
    const retention = { snapshotEvery: 7, keepSnapshots: 3, deleteEvents: true, batchSize: 4 };
    const ref = await Entity.spawn("c", counter, { evtLog, snapshotStore, retention });
    // Commands arrive in 50 waves of 6 while earlier snapshots are being saved and their retention runs. The
    // event loop turns between waves, so the snapshot saves get their turn however loaded the machine is (50
    // timers spread over 50 ms may all fire in one turn on a busy machine: one snapshot, nothing to delete).
    const handled: Promise<unknown>[] = [];
    for (let wave = 1; wave <= 50; wave++) {
      for (let i = wave; i <= 300; i += 50) handled.push(ref.handleCmd(inc(i % 5)));
      await settle();
    }
    await Promise.all(handled);
    const sum = range(1, 300).reduce((s, i) => s + (i % 5), 0);
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: sum, seqNo: 300 });
    await ref.stop();
    const deletedTo = await evtLog.deletedTo("counter", "c");
    // How far depends on which snapshots the scheduler coalesced while commands kept coming.
    expect(deletedTo).toBeGreaterThan(0);
    expect(await storedSeqNos(evtLog, "c")).toEqual(range(deletedTo + 1, 300));
    const again = await Entity.spawn("c", counter, { evtLog, snapshotStore, retention });
    expect(await again.handleCmd({ type: "get" })).toMatchObject({ reply: sum, seqNo: 300 });
  });

  it("never deletes an event a registered projection has not processed (the horizon)", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    let checkpoint: number | undefined = 0;
    const horizon: RetentionHorizon = { lowestPosition: async () => checkpoint };
    const retention = { snapshotEvery: 10, deleteEvents: true, horizon };
    const ref = await Entity.spawn("c", counter, { evtLog, snapshotStore, retention });
    await send(
      ref,
      range(1, 10).map(() => 1),
    );
    await ref.handleCmd({ type: "get" });
    let positionOf7 = 0;
    for await (const r of evtLog.evtsById("counter", "c", { from: 7, to: 7 })) positionOf7 = r.position!;
    // The projection has processed nothing: nothing goes.
    await runRetention("counter", "c", { evtLog, snapshotStore, policy: retention });
    expect(await evtLog.deletedTo("counter", "c")).toBe(0);
    // It has processed up to seqNo 7: the events up to 7 go, not the snapshot's 8..10.
    checkpoint = positionOf7;
    expect(await runRetention("counter", "c", { evtLog, snapshotStore, policy: retention })).toEqual({
      deletedTo: 7,
      removed: 7,
      heldBack: "horizon",
    });
    // No projection registered any more: up to the snapshot.
    checkpoint = undefined;
    expect(await runRetention("counter", "c", { evtLog, snapshotStore, policy: retention })).toMatchObject({
      deletedTo: 10,
      heldBack: "nothing",
    });
    await ref.stop();
  });

  it("deletes nothing when the newest snapshot cannot be read back and decoded", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    for (let i = 0; i < 5; i++)
      await evtLog.persist("counter", "c", i, [{ bytes: jsonToBytes({ type: "increased", by: 1 }) }]);
    await snapshotStore.save("counter", "c", { seqNo: 5, bytes: new Uint8Array([0xc3, 0x28]) });
    const error = await runRetention("counter", "c", {
      evtLog,
      snapshotStore,
      policy: { keepSnapshots: 1 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect(await evtLog.deletedTo("counter", "c")).toBe(0);
  });

  it("deletes nothing until K snapshots exist", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore({ history: 3 });
    const ref = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      retention: { snapshotEvery: 10, keepSnapshots: 3, deleteEvents: true },
    });
    await send(
      ref,
      range(1, 25).map(() => 1),
    );
    await ref.stop();
    expect(await evtLog.deletedTo("counter", "c")).toBe(0);
    expect(
      await runRetention("counter", "c", { evtLog, snapshotStore, policy: { keepSnapshots: 3 } }),
    ).toMatchObject({
      heldBack: "snapshots",
    });
  });

  it("two retention runs at once (as from two processes) delete each event once and agree", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore({ history: 2 });
    const ref = await Entity.spawn("c", counter, { evtLog, snapshotStore, snapshotAfter: 10 });
    await send(
      ref,
      range(1, 45).map(() => 1),
    );
    await ref.stop();
    const options = { evtLog, snapshotStore, policy: { keepSnapshots: 2, batchSize: 3 } };
    const outcomes = await Promise.all([
      runRetention("counter", "c", options),
      runRetention("counter", "c", options),
    ]);
    expect(outcomes.map((o) => o.deletedTo)).toEqual([30, 30]);
    expect(outcomes[0]!.removed + outcomes[1]!.removed).toBe(30);
    expect(await foldedLog(evtLog, "c")).toBe(15);
  });

  it("recovery needing deleted events without a usable snapshot fails with EventsDeletedError", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore({ history: 2 });
    const retention = { snapshotEvery: 10, keepSnapshots: 2, deleteEvents: true };
    const ref = await Entity.spawn("c", counter, { evtLog, snapshotStore, retention });
    await send(
      ref,
      range(1, 35).map(() => 1),
    );
    await ref.stop();
    // Without the snapshots, the events up to 20 are missing: folding 21..35 would give 15, not 35.
    const withoutSnapshots = await Entity.spawn("c", counter, { evtLog }).catch((e: unknown) => e);
    expect(withoutSnapshots).toBeInstanceOf(EventsDeletedError);
    expect(withoutSnapshots).toMatchObject({ deletedTo: 20, neededFrom: 1, code: "EVENTS_DELETED" });
    // With snapshots whose version this code does not read (they are skipped), the same.
    const skipped = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      snapshotVersion: { current: "v2" },
      logger: silentLogger,
    }).catch((e: unknown) => e);
    expect(skipped).toBeInstanceOf(EventsDeletedError);
  });

  it("a key whose events retention deleted is beyond the window after a restart: its command runs again", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    const options = {
      evtLog,
      snapshotStore,
      idempotency: { maxKeys: 100 },
      retention: { snapshotEvery: 5, deleteEvents: true },
    };
    const ref = await Entity.spawn("c", counter, options);
    await ref.handleCmd(inc(1), { idempotencyKey: "early" });
    await send(ref, [1, 1, 1, 1, 1]);
    await ref.handleCmd(inc(1), { idempotencyKey: "late" });
    await ref.stop();
    expect(await evtLog.deletedTo("counter", "c")).toBe(5);
    const again = await Entity.spawn("c", counter, options);
    expect(await again.handleCmd(inc(1), { idempotencyKey: "late" })).toMatchObject({
      kind: "duplicate",
      seqNo: 7,
    });
    expect(await again.handleCmd(inc(1), { idempotencyKey: "early" })).toMatchObject({
      kind: "accepted",
      seqNo: 8,
    });
    await again.stop();
  });

  it("an instance left behind by another process's retention recovers from the snapshots instead of failing", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore({ history: 2 });
    const retention = { snapshotEvery: 10, keepSnapshots: 2, deleteEvents: true };
    const behind = await Entity.spawn("c", counter, { evtLog, snapshotStore, retention });
    const ahead = await Entity.spawn("c", counter, { evtLog, snapshotStore, retention });
    await send(
      ahead,
      range(1, 45).map(() => 1),
    );
    await ahead.stop();
    expect(await evtLog.deletedTo("counter", "c")).toBe(30);
    // Its persist conflicts; the events after its seqNo 0 are partly gone, so it starts over from a snapshot.
    expect(await behind.handleCmd(inc(5))).toMatchObject({ kind: "accepted", reply: 50, seqNo: 46 });
    expect(behind.status).toBe("running");
    await behind.stop();
  });

  it("validates the policy against the stores at spawn", async () => {
    const evtLog = new InMemoryEvtLog();
    const cases = [
      {
        evtLog,
        snapshotStore: new InMemorySnapshotStore(),
        retention: { keepSnapshots: 2, deleteEvents: true },
      },
      { evtLog, retention: { snapshotEvery: 5, deleteEvents: true } },
      {
        evtLog: new FaultyEvtLog(evtLog),
        snapshotStore: new InMemorySnapshotStore(),
        retention: { deleteEvents: true },
      },
      {
        evtLog,
        snapshotStore: new InMemorySnapshotStore(),
        snapshotAfter: 5,
        retention: { snapshotEvery: 5 },
      },
      { evtLog, retention: { snapshotEvery: 0 } },
      { evtLog, retention: { keepSnapshots: 1.5 } },
    ];
    for (const options of cases) {
      await expect(
        Entity.spawn("c", counter, options),
        JSON.stringify(options.retention),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });

  it("logs and counts a failed run instead of failing the entity", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    const logger = new RecordingLogger();
    const binarizer = jsonBinarizer<CounterEvt, number>();
    const ref = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      logger,
      // Snapshots encode, but never decode: retention must not trust them.
      binarizer: {
        ...binarizer,
        stateFromBytes: () => {
          throw new Error("cannot decode");
        },
      },
      retention: { snapshotEvery: 2, deleteEvents: true },
    });
    await send(ref, [1, 1, 1, 1]);
    await ref.stop();
    expect(ref.status).toBe("stopped");
    expect(await evtLog.deletedTo("counter", "c")).toBe(0);
    expect(logger.lines.some((l) => l.message.startsWith("retention failed"))).toBe(true);
  });
});
