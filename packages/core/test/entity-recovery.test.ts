import {
  DecodeError,
  Entity,
  InvalidArgumentError,
  jsonToBytes,
  RecoveryError,
  SnapshotAheadOfLogError,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, foreignIncreased, inc } from "./fixtures.js";

async function logWith(evts: number, id = "c1"): Promise<InMemoryEvtLog> {
  const log = new InMemoryEvtLog();
  for (let i = 0; i < evts; i++) await log.persist("counter", id, i, [foreignIncreased(1)]);
  return log;
}

describe("Recovery at spawn", () => {
  it("replays every event when there is no snapshot", async () => {
    const evtLog = new FaultyEvtLog(await logWith(25));
    const ref = await Entity.spawn("c1", counter, { evtLog });
    expect(ref.seqNo).toBe(25);
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: 25 });
    expect(evtLog.counts.evtsByIdRecords).toBe(25);
  });

  it("recovery from a snapshot plus the tail reads only the tail", async () => {
    const evtLog = new FaultyEvtLog(await logWith(1_000));
    const snapshotStore = new InMemorySnapshotStore();
    await snapshotStore.save("counter", "c1", { seqNo: 990, bytes: jsonToBytes(990) });

    const ref = await Entity.spawn("c1", counter, { evtLog, snapshotStore });
    expect(ref.seqNo).toBe(1_000);
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: 1_000 });
    expect(evtLog.counts).toMatchObject({ lastSeqNo: 1, evtsById: 1, evtsByIdRecords: 10 });
  });

  it("a snapshot at the log's last seqNo reads no events at all", async () => {
    const evtLog = new FaultyEvtLog(await logWith(5));
    const snapshotStore = new InMemorySnapshotStore();
    await snapshotStore.save("counter", "c1", { seqNo: 5, bytes: jsonToBytes(5) });
    const ref = await Entity.spawn("c1", counter, { evtLog, snapshotStore });
    expect(ref.seqNo).toBe(5);
    expect(evtLog.counts.evtsByIdRecords).toBe(0);
  });

  it("a snapshot ahead of the log fails spawn with SnapshotAheadOfLogError", async () => {
    const snapshotStore = new InMemorySnapshotStore();
    await snapshotStore.save("counter", "c1", { seqNo: 7, bytes: jsonToBytes(7) });
    const error = await Entity.spawn("c1", counter, { evtLog: await logWith(3), snapshotStore }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SnapshotAheadOfLogError);
    expect(error).toMatchObject({ code: "SNAPSHOT_AHEAD_OF_LOG", snapshotSeqNo: 7, lastSeqNo: 3 });
  });

  it("an event with corrupt bytes fails spawn with a DecodeError naming type, id and seqNo", async () => {
    const evtLog = await logWith(3);
    await evtLog.persist("counter", "c1", 3, [{ bytes: new TextEncoder().encode("{not json") }]);
    await evtLog.persist("counter", "c1", 4, [foreignIncreased(1)]);
    const error = await Entity.spawn("c1", counter, { evtLog }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ what: "event", type: "counter", id: "c1", seqNo: 4 });
    expect((error as Error).message).toContain("seqNo 4");
  });

  it("a snapshot with corrupt bytes fails spawn with a DecodeError naming the snapshot's seqNo", async () => {
    const snapshotStore = new InMemorySnapshotStore();
    await snapshotStore.save("counter", "c1", { seqNo: 2, bytes: new Uint8Array([0xc3, 0x28]) });
    const error = await Entity.spawn("c1", counter, { evtLog: await logWith(3), snapshotStore }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ what: "snapshot", type: "counter", id: "c1", seqNo: 2 });
  });

  it("an unreachable log fails spawn with RecoveryError carrying the read error", async () => {
    const evtLog = new FaultyEvtLog(await logWith(3));
    evtLog.failReads(1);
    const error = await Entity.spawn("c1", counter, { evtLog }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecoveryError);
    expect((error as RecoveryError).cause).toMatchObject({ code: "READ_FAILED" });
  });

  it("an aborted signal stops recovery with the signal's reason", async () => {
    const controller = new AbortController();
    const evtLog = new FaultyEvtLog(await logWith(3), { latencyMs: 5 });
    const spawning = Entity.spawn("c1", counter, { evtLog, signal: controller.signal });
    controller.abort(new Error("shutting down"));
    await expect(spawning).rejects.toThrow("shutting down");
  });

  it("invalid type names, ids and options are rejected with InvalidArgumentError", async () => {
    const evtLog = new InMemoryEvtLog();
    await expect(Entity.spawn("", counter, { evtLog })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(Entity.spawn("x", { ...counter, typeName: "no spaces" }, { evtLog })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(Entity.spawn("x", counter, { evtLog, mailboxSize: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(Entity.spawn("x", counter, { evtLog, maxConflictRetries: -1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(Entity.spawn("x", counter, { evtLog, snapshotAfter: 1.5 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it("a re-spawned entity continues where the previous one stopped", async () => {
    const evtLog = new InMemoryEvtLog();
    const first = await Entity.spawn("c1", counter, { evtLog });
    await first.handleCmd(inc(4));
    await first.stop();
    const second = await Entity.spawn("c1", counter, { evtLog });
    expect(await second.handleCmd(inc(1))).toMatchObject({ kind: "accepted", reply: 5, seqNo: 2 });
  });
});
