import {
  Entity,
  InvalidArgumentError,
  jsonBinarizer,
  jsonToBytes,
  SnapshotVersionUnknownError,
} from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { type CounterEvt, counter, foreignIncreased, inc, RecordingLogger, settle } from "./fixtures.js";

/** A log with `n` increments of 1 and a store with snapshots at the given seqNos, each of the given version. */
async function stores(n: number, snapshots: { seqNo: number; version?: string; value: unknown }[]) {
  const evtLog = new InMemoryEvtLog();
  for (let i = 0; i < n; i++) await evtLog.persist("counter", "c", i, [foreignIncreased(1)]);
  const snapshotStore = new InMemorySnapshotStore({ history: 3 });
  for (const { seqNo, version, value } of snapshots) {
    await snapshotStore.save("counter", "c", { seqNo, bytes: jsonToBytes(value), version });
  }
  return { evtLog, snapshotStore };
}

/** A binarizer that reads version 1 snapshots as `{ v: n }` and current ones as plain numbers. */
const binarizer = {
  ...jsonBinarizer<CounterEvt, number>(),
  stateFromBytes: (bytes: Uint8Array, version?: string) => {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as number | { v: number };
    return version === "1" ? (value as { v: number }).v * 1 : (value as number);
  },
};

describe("Snapshot versions", () => {
  it("stores the current version with every snapshot", async () => {
    const { evtLog, snapshotStore } = await stores(0, []);
    const ref = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      snapshotAfter: 1,
      snapshotVersion: { current: "2" },
    });
    await ref.handleCmd(inc(3));
    await settle();
    await ref.stop();
    expect(await snapshotStore.load("counter", "c")).toMatchObject({ seqNo: 1, version: "2" });
  });

  it("ignores a snapshot of an unknown version (logged) and replays the events instead", async () => {
    const { evtLog, snapshotStore } = await stores(5, [{ seqNo: 4, version: "9", value: 1_000 }]);
    const logger = new RecordingLogger();
    const ref = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      logger,
      snapshotVersion: { current: "2" },
    });
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: 5, seqNo: 5 });
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "snapshot version unknown to this code; recovering from the events",
      }),
    );
  });

  it("falls back to the newest older snapshot whose version it reads", async () => {
    const { evtLog, snapshotStore } = await stores(6, [
      { seqNo: 2, version: "2", value: 2 },
      { seqNo: 4, version: "1", value: { v: 0 } },
      { seqNo: 5, version: "3", value: 1_000 },
    ]);
    const ref = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      logger: new RecordingLogger(),
      binarizer,
      snapshotVersion: { current: "2", readable: ["1"] },
    });
    // Snapshot 4 (version 1) says { v: 0 }: folding events 5 and 6 gives 2, which proves it was used.
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: 2, seqNo: 6 });
  });

  it("passes the stored version to stateFromBytes for readable older versions", async () => {
    const evtLog = new InMemoryEvtLog();
    for (let i = 0; i < 3; i++) await evtLog.persist("counter", "c", i, [foreignIncreased(1)]);
    const snapshotStore = new InMemorySnapshotStore();
    await snapshotStore.save("counter", "c", { seqNo: 3, bytes: jsonToBytes({ v: 30 }), version: "1" });
    const ref = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      binarizer,
      snapshotVersion: { current: "2", readable: ["1"] },
    });
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: 30, seqNo: 3 });
  });

  it("rejects a snapshot of an unknown version when configured to", async () => {
    const { evtLog, snapshotStore } = await stores(5, [{ seqNo: 4, version: "9", value: 1_000 }]);
    const error = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      snapshotVersion: { current: "2", onUnknown: "reject" },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotVersionUnknownError);
    expect(error).toMatchObject({ code: "SNAPSHOT_VERSION_UNKNOWN", seqNo: 4, version: "9" });
  });

  it("reads unversioned snapshots only when told to once versions are configured", async () => {
    const { evtLog, snapshotStore } = await stores(3, [{ seqNo: 3, value: 100 }]);
    const skipping = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      logger: new RecordingLogger(),
      snapshotVersion: { current: "2" },
    });
    expect(await skipping.handleCmd({ type: "get" })).toMatchObject({ reply: 3 });
    const reading = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      snapshotVersion: { current: "2", readUnversioned: true },
    });
    expect(await reading.handleCmd({ type: "get" })).toMatchObject({ reply: 100 });
  });

  it("without versions configured, a versioned snapshot is unknown and replayed", async () => {
    const { evtLog, snapshotStore } = await stores(2, [{ seqNo: 2, version: "2", value: 50 }]);
    const ref = await Entity.spawn("c", counter, { evtLog, snapshotStore, logger: new RecordingLogger() });
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: 2 });
  });

  it("refuses invalid versioning options", async () => {
    const evtLog = new InMemoryEvtLog();
    for (const snapshotVersion of [
      { current: "" },
      { current: "2", readable: [""] },
      { current: "2", onUnknown: "maybe" as never },
    ]) {
      await expect(Entity.spawn("c", counter, { evtLog, snapshotVersion })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
  });
});
