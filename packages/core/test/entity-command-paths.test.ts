import {
  defineEntity,
  Entity,
  type EvtLog,
  emitAndReply,
  type NewEvt,
  PersistError,
  type Persisted,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, inc, logOf, RecordingLogger } from "./fixtures.js";

// The command path has a fast path (a plain command on an idle entity, answered by reactions on the
// persist's promise) and a general loop; these cases reach the seams between the two.

/** An in-memory log whose `persist` is replaced: the other methods pass through. */
function logWithPersist(
  persist: (inner: InMemoryEvtLog, ...args: Parameters<EvtLog["persist"]>) => ReturnType<EvtLog["persist"]>,
): { log: EvtLog; inner: InMemoryEvtLog } {
  const inner = new InMemoryEvtLog();
  const log: EvtLog = {
    persist: (type: string, id: string, expected: number, evts: readonly NewEvt[]) =>
      persist(inner, type, id, expected, evts),
    lastSeqNo: (type, id) => inner.lastSeqNo(type, id),
    evtsById: (type, id, options) => inner.evtsById(type, id, options),
    evtsByType: (type, options) => inner.evtsByType(type, options),
  };
  return { log, inner };
}

describe("Command path seams", () => {
  it("a log whose persist throws instead of rejecting: PersistError (outcome unknown), nothing written, the entity keeps serving", async () => {
    let throwNext = true;
    const cause = new Error("driver threw synchronously");
    const { log, inner } = logWithPersist((inner, ...args) => {
      if (throwNext) {
        throwNext = false;
        throw cause;
      }
      return inner.persist(...args);
    });
    const ref = await Entity.spawn("c1", counter, { evtLog: log, logger: new RecordingLogger() });

    const error = await ref.handleCmd(inc(5)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistError);
    expect((error as PersistError).outcomeUnknown).toBe(true);
    expect((error as PersistError).cause).toBe(cause);
    expect(ref.stats.persistFailures).toBe(1);
    expect(await logOf(inner, "c1")).toEqual([]);

    expect(await ref.handleCmd(inc(2))).toMatchObject({ kind: "accepted", reply: 2, seqNo: 1 });
    expect(ref.status).toBe("running");
    await ref.stop();
  });

  it("a log whose persist returns a thenable that is not a native promise is awaited like one", async () => {
    const { log, inner } = logWithPersist((inner, ...args) => {
      const persisted = inner.persist(...args);
      // biome-ignore lint/suspicious/noThenProperty: the point of the test is a thenable that is not a Promise
      const thenable: PromiseLike<Persisted> = { then: (ok, fail) => persisted.then(ok, fail) };
      return thenable as Promise<Persisted>;
    });
    const ref = await Entity.spawn("c1", counter, { evtLog: log, logger: new RecordingLogger() });

    expect(await ref.handleCmd(inc(3))).toMatchObject({ kind: "accepted", reply: 3, seqNo: 1 });
    expect(await ref.handleCmd(inc(4))).toMatchObject({ kind: "accepted", reply: 7, seqNo: 2 });
    expect(await logOf(inner, "c1")).toHaveLength(2);
    await ref.stop();
  });

  it("a failed persist of an idle entity's command still hands over to the commands queued behind it", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog(), { latencyMs: 5 });
    const ref = await Entity.spawn("c1", counter, { evtLog: log, logger: new RecordingLogger() });
    log.failNextPersist({ afterWrite: false });

    const first = ref.handleCmd(inc(1)).catch((e: unknown) => e);
    const second = ref.handleCmd(inc(2));
    const third = ref.handleCmd({ type: "get" });

    expect(await first).toBeInstanceOf(PersistError);
    expect(await second).toMatchObject({ kind: "accepted", reply: 2, seqNo: 1 });
    expect(await third).toMatchObject({ kind: "accepted", reply: 2, seqNo: 1 });
    await ref.stop();
    expect(ref.status).toBe("stopped");
  });

  it("a command whose handleCmd throws on an idle entity rejects with that error and leaves the entity idle and serving", async () => {
    const ref = await Entity.spawn("c1", counter, {
      evtLog: new InMemoryEvtLog(),
      logger: new RecordingLogger(),
    });
    await expect(ref.handleCmd({ type: "boom" })).rejects.toThrow("boom: handleCmd failed");
    expect(await ref.handleCmd(inc(1))).toMatchObject({ kind: "accepted", reply: 1, seqNo: 1 });
    await ref.stop();
    expect(ref.status).toBe("stopped");
  });

  it("an async handleCmd is called once per command and its events are persisted with the state after them", async () => {
    let calls = 0;
    const asyncCounter = defineEntity<number, number, number, number>({
      typeName: "asyncCounter",
      initialState: () => 0,
      handleCmd: async (_state, by) => {
        calls++;
        await Promise.resolve();
        return emitAndReply<number, number, number>([by], (s) => s);
      },
      handleEvt: (state, by) => state + by,
    });
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("a1", asyncCounter, { evtLog, logger: new RecordingLogger() });

    expect(await ref.handleCmd(2)).toMatchObject({ kind: "accepted", reply: 2, seqNo: 1 });
    expect(await ref.handleCmd(3)).toMatchObject({ kind: "accepted", reply: 5, seqNo: 2 });
    expect(calls).toBe(2);
    expect(await evtLog.lastSeqNo("asyncCounter", "a1")).toBe(2);
    await ref.stop();
  });
});
