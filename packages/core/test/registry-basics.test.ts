import {
  EntityNotHostedError,
  EntityRegistry,
  ErrorCode,
  InvalidArgumentError,
  isEventSourcedError,
  RegistryClosedError,
  silentLogger,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { counter, foldedLog, inc, settle } from "./fixtures.js";

const registries: EntityRegistry<unknown, unknown, never>[] = [];
function track<R>(registry: R): R {
  registries.push(registry as EntityRegistry<unknown, unknown, never>);
  return registry;
}
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

describe("EntityRegistry", () => {
  it("spawns an entity on its first command and serves later ones from the resident incarnation", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const registry = track(new EntityRegistry(counter, { evtLog, logger: silentLogger }));
    expect(await registry.send("a", inc(2))).toMatchObject({ kind: "accepted", reply: 2, seqNo: 1 });
    expect(await registry.send("a", inc(3))).toMatchObject({ kind: "accepted", reply: 5, seqNo: 2 });
    expect(await registry.send("b", { type: "get" })).toMatchObject({ kind: "accepted", reply: 0 });
    expect(registry.stats).toMatchObject({
      active: 2,
      spawning: 0,
      waiting: 0,
      hits: 1,
      misses: 2,
      recoveries: 2,
    });
    expect(evtLog.counts.lastSeqNo).toBe(2);
    expect(registry.phase("a")).toBe("active");
    expect(registry.phase("c")).toBeUndefined();
  });

  it("get resolves to the current incarnation, the same one send uses", async () => {
    const registry = track(new EntityRegistry(counter, { evtLog: new InMemoryEvtLog() }));
    const ref = await registry.get("a");
    await registry.send("a", inc(1));
    expect(ref.seqNo).toBe(1);
    expect(await registry.get("a")).toBe(ref);
  });

  it("rejects a bad id with InvalidArgumentError and keeps no slot for it", async () => {
    const registry = track(new EntityRegistry(counter, { evtLog: new InMemoryEvtLog() }));
    for (const id of ["", "a\0b", "\ud800", 42 as unknown as string]) {
      await expect(registry.send(id, inc(1))).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(registry.stats).toMatchObject({ active: 0, spawning: 0 });
  });

  it("validates its options once, naming the option", () => {
    const evtLog = new InMemoryEvtLog();
    expect(() => new EntityRegistry(counter, { evtLog, passivation: { maxActive: 0 } })).toThrow(
      /passivation.maxActive must be an integer from 1/,
    );
    expect(() => new EntityRegistry(counter, { evtLog, passivation: { idleAfterMs: 1.5 } })).toThrow(
      /passivation.idleAfterMs/,
    );
    expect(() => new EntityRegistry(counter, { evtLog, passivation: { sweepIntervalMs: 10 } })).toThrow(
      /sweepIntervalMs needs passivation.idleAfterMs/,
    );
    expect(() => new EntityRegistry(counter, { evtLog, snapshotOnPassivate: true })).toThrow(
      /snapshotOnPassivate needs options.snapshotStore/,
    );
    expect(() => new EntityRegistry(counter, { evtLog, failureBackoff: { initialMs: 0 } })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new EntityRegistry({ ...counter, typeName: "no spaces" }, { evtLog })).toThrow(
      /invalid entity type name/,
    );
    expect(() => new EntityRegistry(counter, { mailboxSize: 0 } as never)).toThrow(/options.evtLog/);
  });

  it("passivate stops an entity gracefully; its next command recovers a new incarnation with the same state", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const registry = track(new EntityRegistry(counter, { evtLog }));
    const first = await registry.get("a");
    const queued = [registry.send("a", inc(1)), registry.send("a", inc(2))];
    await registry.passivate("a");
    await expect(Promise.all(queued)).resolves.toMatchObject([{ seqNo: 1 }, { seqNo: 2 }]);
    expect(first.status).toBe("stopped");
    expect(registry.phase("a")).toBeUndefined();
    expect(registry.stats.passivations).toEqual({ idle: 0, limit: 0, explicit: 1 });
    expect(await registry.send("a", { type: "get" })).toMatchObject({ reply: 3, seqNo: 2 });
    expect(await registry.get("a")).not.toBe(first);
    await registry.passivate("not-resident");
  });

  it("a command sent through a ref the registry has since passivated gets EntityStoppedError; send never does", async () => {
    const registry = track(new EntityRegistry(counter, { evtLog: new InMemoryEvtLog() }));
    const ref = await registry.get("a");
    await registry.passivate("a");
    await expect(ref.handleCmd(inc(1))).rejects.toMatchObject({ code: ErrorCode.EntityStopped });
    await expect(registry.send("a", inc(1))).resolves.toMatchObject({ seqNo: 1 });
  });

  it("an entity stopped behind the registry's back is replaced on its next command", async () => {
    const registry = track(new EntityRegistry(counter, { evtLog: new InMemoryEvtLog() }));
    const ref = await registry.get("a");
    const stopped = ref.stop();
    await expect(registry.send("a", inc(1))).resolves.toMatchObject({ seqNo: 1 });
    await stopped;
    expect(registry.stats).toMatchObject({ active: 1, failures: 0 });
  });

  it("snapshotOnPassivate saves the final state of an entity that moved, and the next incarnation recovers from it", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const snapshotStore = new InMemorySnapshotStore();
    const registry = track(new EntityRegistry(counter, { evtLog, snapshotStore, snapshotOnPassivate: true }));
    await registry.send("a", inc(1));
    await registry.send("a", inc(2));
    await registry.passivate("a");
    expect((await snapshotStore.load("counter", "a"))?.seqNo).toBe(2);
    evtLog.resetCounts();
    expect(await registry.send("a", { type: "get" })).toMatchObject({ reply: 3, seqNo: 2 });
    expect(evtLog.counts).toMatchObject({ lastSeqNo: 1, evtsById: 0 });
    // Unchanged since it was recovered: nothing new to save.
    const saved = await snapshotStore.load("counter", "a");
    await registry.passivate("a");
    expect(await snapshotStore.load("counter", "a")).toEqual(saved);
  });

  it("canHost refuses an id with EntityNotHostedError and spawns nothing", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const hosted = new Set(["mine"]);
    const registry = track(new EntityRegistry(counter, { evtLog, canHost: (id) => hosted.has(id) }));
    await expect(registry.send("theirs", inc(1))).rejects.toBeInstanceOf(EntityNotHostedError);
    await expect(registry.get("theirs")).rejects.toMatchObject({ code: ErrorCode.EntityNotHosted });
    expect(evtLog.counts.lastSeqNo).toBe(0);
    expect(registry.stats).toMatchObject({ failures: 0, spawning: 0 });
    await expect(registry.send("mine", inc(1))).resolves.toMatchObject({ seqNo: 1 });
  });

  it("passivateWhere stops every matching entity and resolves once they have stopped (a shard handover)", async () => {
    const registry = track(new EntityRegistry(counter, { evtLog: new InMemoryEvtLog() }));
    const ids = ["s1-a", "s1-b", "s2-a"];
    const refs = await Promise.all(ids.map((id) => registry.get(id)));
    const pending = registry.send("s1-a", inc(1));
    const spawning = registry.send("s1-c", inc(1));
    await registry.passivateWhere((id) => id.startsWith("s1-"));
    expect(refs.map((r) => r.status)).toEqual(["stopped", "stopped", "running"]);
    expect(registry.phase("s1-c")).toBeUndefined();
    await expect(Promise.all([pending, spawning])).resolves.toMatchObject([{ seqNo: 1 }, { seqNo: 1 }]);
    expect(registry.stats.passivations.explicit).toBe(3);
  });

  it("evtLogFor gives each entity its log, one shared config per distinct log", async () => {
    const even = new InMemoryEvtLog();
    const odd = new InMemoryEvtLog();
    const registry = track(
      new EntityRegistry(counter, {
        evtLog: even,
        evtLogFor: (id) => (Number(id.slice(1)) % 2 === 0 ? even : odd),
      }),
    );
    await Promise.all(["e0", "e1", "e2", "e3"].map((id) => registry.send(id, inc(1))));
    expect(await Promise.all(["e0", "e1", "e2", "e3"].map((id) => even.lastSeqNo("counter", id)))).toEqual([
      1, 0, 1, 0,
    ]);
    expect(await foldedLog(odd, "e3")).toBe(1);
  });

  it("a command with a timeout keeps its idempotency key when it waits for a spawn (a retry is a duplicate)", async () => {
    const evtLog = new InMemoryEvtLog();
    const registry = track(new EntityRegistry(counter, { evtLog, logger: silentLogger }));
    const options = { idempotencyKey: "cmd-1", timeoutMs: 5_000, metadata: { correlationId: "r" } };
    expect(await registry.send("k", inc(2), options)).toMatchObject({ kind: "accepted", seqNo: 1 });
    await registry.passivate("k");
    expect(await registry.send("k", inc(2), options)).toEqual({ kind: "duplicate", seqNo: 1, position: 1 });
    expect(await foldedLog(evtLog, "k")).toBe(2);
  });

  it("a caller's timeoutMs also bounds the wait for recovery", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog(), { latencyMs: 200 });
    const registry = track(new EntityRegistry(counter, { evtLog }));
    await expect(registry.send("a", inc(1), { timeoutMs: 1 })).rejects.toMatchObject({
      code: ErrorCode.CommandTimeout,
    });
    // The recovery went on: the next command is served without the one that gave up.
    await expect(registry.send("a", { type: "get" })).resolves.toMatchObject({ reply: 0, seqNo: 0 });
    const aborted = new AbortController();
    aborted.abort(new Error("gave up"));
    await expect(registry.send("b", inc(1), { signal: aborted.signal })).rejects.toThrow("gave up");
    await expect(registry.send("b", inc(1), { timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("close() stops every entity; later sends and gets reject with RegistryClosedError", async () => {
    const registry = new EntityRegistry(counter, { evtLog: new InMemoryEvtLog() });
    const ref = await registry.get("a");
    await registry.close();
    expect(ref.status).toBe("stopped");
    const error = await registry.send("a", inc(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryClosedError);
    expect(isEventSourcedError(error, ErrorCode.RegistryClosed) && error.id).toBe("a");
    await expect(registry.get("b")).rejects.toBeInstanceOf(RegistryClosedError);
    await expect(registry.close()).resolves.toBeUndefined();
    expect(registry.stats).toMatchObject({ active: 0, spawning: 0, stopping: 0 });
  });

  it("an EntityStoppedError thrown by a command's handler reaches the caller and is not retried", async () => {
    const evtLog = new InMemoryEvtLog();
    const other = new EntityRegistry(counter, { evtLog });
    const otherRef = await other.get("x");
    await other.close();
    let calls = 0;
    const relay = {
      ...counter,
      typeName: "relay",
      handleCmd: async () => {
        calls++;
        return (await otherRef.handleCmd(inc(1))) as never;
      },
    };
    const registry = track(new EntityRegistry(relay, { evtLog }));
    await expect(registry.send("r", inc(1))).rejects.toMatchObject({ code: ErrorCode.EntityStopped });
    await settle();
    expect(calls).toBe(1);
  });
});
