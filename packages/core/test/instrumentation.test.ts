import {
  type CommandEnd,
  combineInstrumentation,
  Entity,
  EntityRegistry,
  type EvtLog,
  type Instrumentation,
  type PersistBatch,
  SeqNoConflictError,
} from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, foreignIncreased, inc } from "./fixtures.js";

/** Records every hook call, in order. */
function recorder() {
  const calls: { hook: string; info: unknown }[] = [];
  const instrumentation: Instrumentation = {
    commandStarted: (cmd) => {
      calls.push({ hook: "commandStarted", info: cmd });
      return {
        headers: { "x-trace": `t-${cmd.seqNo}` },
        persisted: (batch: PersistBatch) => calls.push({ hook: "persisted", info: batch }),
        ended: (end: CommandEnd) => calls.push({ hook: "ended", info: end }),
      };
    },
    recoveryStarted: (recovery) => {
      calls.push({ hook: "recoveryStarted", info: recovery });
      return { ended: (end) => calls.push({ hook: "recovered", info: end }) };
    },
    passivated: (info) => calls.push({ hook: "passivated", info }),
    conflict: (info) => calls.push({ hook: "conflict", info }),
  };
  const of = (hook: string) => calls.filter((c) => c.hook === hook).map((c) => c.info);
  return { calls, instrumentation, of };
}

describe("instrumentation hooks", () => {
  it("follow a command from arrival through its persist to its answer, and store the observer's headers", async () => {
    const { instrumentation, calls, of } = recorder();
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c-1", counter, { evtLog, instrumentation });
    await ref.handleCmd(inc(2), { metadata: { headers: { tenant: "t1" } } });
    expect(calls.map((c) => c.hook)).toEqual([
      "recoveryStarted",
      "recovered",
      "commandStarted",
      "persisted",
      "ended",
    ]);
    expect(of("commandStarted")[0]).toMatchObject({
      typeName: counter.typeName,
      id: "c-1",
      cmdType: "inc",
      seqNo: 0,
    });
    expect(of("persisted")[0]).toMatchObject({ size: 1, position: 1 });
    expect(of("ended")[0]).toMatchObject({ outcome: "accepted", seqNo: 1, events: 1 });
    expect((of("ended")[0] as CommandEnd).durationMs).toBeGreaterThanOrEqual(0);
    const [record] = await collect(evtLog.evtsById(counter.typeName, "c-1", { from: 1 }));
    expect(record!.metadata?.headers).toEqual({ tenant: "t1", "x-trace": "t-0" });
    await ref.stop();
  });

  it("report rejected, read-only and failed commands with their outcome, and queued ones too", async () => {
    const { instrumentation, of } = recorder();
    const ref = await Entity.spawn("c-2", counter, { evtLog: new InMemoryEvtLog(), instrumentation });
    await Promise.all([ref.handleCmd(inc(1)), ref.handleCmd(inc(1)), ref.handleCmd({ type: "get" })]);
    await ref.handleCmd({ type: "dec", by: 5 });
    await expect(ref.handleCmd({ type: "boom" })).rejects.toThrow("boom");
    expect((of("ended") as CommandEnd[]).map((e) => [e.outcome, e.seqNo, e.events])).toEqual([
      ["accepted", 1, 1],
      ["accepted", 2, 1],
      ["accepted", 2, 0],
      ["rejected", 2, 0],
      ["failed", 2, 0],
    ]);
    await ref.stop();
  });

  it("report a queued command that timed out before it was taken as failed, once", async () => {
    const { instrumentation, of } = recorder();
    const evtLog = new InMemoryEvtLog();
    let release!: () => void;
    const slowLog: EvtLog = {
      persist: async (...args) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return evtLog.persist(...args);
      },
      lastSeqNo: (...args) => evtLog.lastSeqNo(...args),
      evtsById: (...args) => evtLog.evtsById(...args),
      evtsByType: (...args) => evtLog.evtsByType(...args),
    };
    const ref = await Entity.spawn("c-3", counter, { evtLog: slowLog, instrumentation });
    const first = ref.handleCmd(inc(1));
    const second = ref.handleCmd(inc(1), { timeoutMs: 1 });
    await expect(second).rejects.toMatchObject({ code: "COMMAND_TIMEOUT" });
    release();
    await first;
    expect((of("ended") as CommandEnd[]).map((e) => e.outcome).sort()).toEqual(["accepted", "failed"]);
    await ref.stop();
  });

  it("report a conflict, retried, and the events it persisted after catching up", async () => {
    const { instrumentation, of } = recorder();
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c-4", counter, { evtLog, instrumentation });
    await evtLog.persist(counter.typeName, "c-4", 0, [foreignIncreased(5)]);
    expect(await ref.handleCmd(inc(1))).toMatchObject({ kind: "accepted", seqNo: 2 });
    expect(of("conflict")).toEqual([
      { typeName: counter.typeName, id: "c-4", expectedSeqNo: 0, attempt: 1, retried: true },
    ]);
    expect(of("persisted")).toHaveLength(2);
    expect((of("persisted")[0] as PersistBatch).error).toBeInstanceOf(SeqNoConflictError);
    expect(of("ended")[0]).toMatchObject({ outcome: "accepted", seqNo: 2, events: 1 });
    await ref.stop();
  });

  it("report recovery from a snapshot with the events folded after it, and passivations with their reason", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    const writer = new EntityRegistry(counter, { evtLog, snapshotStore, snapshotAfter: 2 });
    for (let i = 0; i < 3; i++) await writer.send("c-5", inc(1));
    await writer.close();
    const { instrumentation, of } = recorder();
    const registry = new EntityRegistry(counter, { evtLog, snapshotStore, instrumentation });
    await registry.send("c-5", { type: "get" });
    expect(of("recovered")[0]).toMatchObject({ ok: true, seqNo: 3, events: 1, snapshotSeqNo: 2 });
    await registry.passivate("c-5");
    expect(of("passivated")).toEqual([{ typeName: counter.typeName, id: "c-5", reason: "explicit" }]);
    await registry.close();
  });

  it("a hook or observer that throws is ignored and warned about: commands, recovery and stop go on", async () => {
    const warnings: unknown[] = [];
    const logger = { debug() {}, warn: (_m: string, f?: unknown) => warnings.push(f), error() {} };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const fail = (what: string) => {
      throw new Error(`${what} broken`);
    };
    let starts = 0;
    const throwing: Instrumentation = {
      // The first command's start throws; later ones return an observer whose every member throws.
      commandStarted: () =>
        starts++ === 0
          ? fail("commandStarted")
          : {
              get headers(): Record<string, string> {
                return fail("headers");
              },
              persisted: () => fail("persisted"),
              ended: () => fail("ended"),
            },
      recoveryStarted: () => ({ ended: () => fail("recovery ended") }),
      passivated: () => fail("passivated"),
    };
    try {
      const evtLog = new InMemoryEvtLog();
      const ref = await Entity.spawn("t", counter, { evtLog, instrumentation: throwing, logger });
      expect(await ref.handleCmd(inc(1))).toMatchObject({ kind: "accepted", seqNo: 1 });
      expect(await ref.handleCmd(inc(2))).toMatchObject({ kind: "accepted", seqNo: 2 });
      expect(await ref.handleCmd(inc(3))).toMatchObject({ kind: "accepted", seqNo: 3 });
      await ref.stop();
      const registry = new EntityRegistry(counter, { evtLog, instrumentation: throwing, logger });
      expect(await registry.send("t", inc(1))).toMatchObject({ kind: "accepted", seqNo: 4 });
      await registry.passivate("t");
      await registry.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(warnings.map((w) => (w as { hook: string }).hook)).toEqual(
        expect.arrayContaining(["commandStarted", "command ended", "command persisted", "recovery ended"]),
      );
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("combineInstrumentation calls every part and merges their headers", async () => {
    const a = recorder();
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c-6", counter, {
      evtLog,
      instrumentation: combineInstrumentation(a.instrumentation, {
        commandStarted: () => ({ headers: { other: "yes" }, ended: () => {} }),
      }),
    });
    await ref.handleCmd(inc(1));
    expect(a.of("ended")).toHaveLength(1);
    const [record] = await collect(evtLog.evtsById(counter.typeName, "c-6", { from: 1 }));
    expect(record!.metadata?.headers).toEqual({ "x-trace": "t-0", other: "yes" });
    await ref.stop();
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
