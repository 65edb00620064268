import {
  deleteEntity,
  Entity,
  ErrorCode,
  InvalidArgumentError,
  isEventSourcedError,
  runRetention,
  silentLogger,
} from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, inc } from "./fixtures.js";

// deleteEntity and the retention policy from a hostile caller: every bad argument is refused with
// InvalidArgumentError naming it, before anything is deleted.

function expectInvalid(error: unknown, pattern: RegExp): void {
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect(isEventSourcedError(error, ErrorCode.InvalidArgument)).toBe(true);
  expect((error as Error).message).toMatch(pattern);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable("resolved"),
    (error: unknown) => error,
  );
}

/** A log with three events of counter "c". */
async function logWithThree(): Promise<InMemoryEvtLog> {
  const evtLog = new InMemoryEvtLog();
  const ref = await Entity.spawn("c", counter, { evtLog, logger: silentLogger });
  for (let i = 0; i < 3; i++) await ref.handleCmd(inc(1));
  await ref.stop();
  return evtLog;
}

async function countOf(evtLog: InMemoryEvtLog): Promise<number> {
  let n = 0;
  for await (const _ of evtLog.evtsById("counter", "c", { from: 1 })) n++;
  return n;
}

describe("deleteEntity from a hostile caller", () => {
  it.each([
    ["undefined", undefined],
    ["null", null],
    ["a string", "all"],
  ])("options that are %s reject with InvalidArgumentError", async (_, options) => {
    expectInvalid(await rejection(deleteEntity("counter", "c", options as never)), /options/);
  });

  it.each([
    ["an empty id", ""],
    ["an id with NUL", "c\0"],
    ["an id with a lone surrogate", "c\uD800"],
    ["a number", 1],
  ])("an id that is %s rejects with InvalidArgumentError", async (_, id) => {
    const evtLog = await logWithThree();
    expectInvalid(await rejection(deleteEntity("counter", id as string, { evtLog })), /entity id/);
  });

  it.each([[-1], [Number.NaN], [1.5], [Number.POSITIVE_INFINITY], ["2"]])(
    "toSeqNo %s rejects with InvalidArgumentError and deletes nothing",
    async (toSeqNo) => {
      const evtLog = await logWithThree();
      expectInvalid(await rejection(deleteEntity("counter", "c", { evtLog, toSeqNo } as never)), /toSeqNo/);
      expect(await countOf(evtLog)).toBe(3);
    },
  );

  it("a toSeqNo beyond the head deletes up to the head and no further", async () => {
    const evtLog = await logWithThree();
    const done = await deleteEntity("counter", "c", { evtLog, toSeqNo: 1_000 });
    expect(done).toMatchObject({ deletedTo: 3, complete: true, reset: false });
    expect(await evtLog.lastSeqNo("counter", "c")).toBe(3);
  });

  it.each([[0], [-3], [Number.NaN], [2.5], ["10"]])(
    "batchSize %s rejects with InvalidArgumentError and deletes nothing",
    async (batchSize) => {
      const evtLog = await logWithThree();
      expectInvalid(
        await rejection(deleteEntity("counter", "c", { evtLog, batchSize } as never)),
        /batchSize/,
      );
      expect(await countOf(evtLog)).toBe(3);
    },
  );

  it.each([["false"], [1], ["no"]])(
    "resetSeqNo %o that is not a boolean rejects with InvalidArgumentError and resets nothing",
    async (resetSeqNo) => {
      const evtLog = await logWithThree();
      expectInvalid(
        await rejection(deleteEntity("counter", "c", { evtLog, resetSeqNo } as never)),
        /resetSeqNo must be a boolean/,
      );
      expect(await evtLog.lastSeqNo("counter", "c")).toBe(3);
      expect(await countOf(evtLog)).toBe(3);
    },
  );

  it("a horizon without lowestPosition rejects with InvalidArgumentError and deletes nothing", async () => {
    const evtLog = await logWithThree();
    expectInvalid(
      await rejection(deleteEntity("counter", "c", { evtLog, horizon: {} } as never)),
      /horizon must have a lowestPosition/,
    );
    expect(await countOf(evtLog)).toBe(3);
  });

  it("a signal that is not an AbortSignal rejects with InvalidArgumentError and deletes nothing", async () => {
    const evtLog = await logWithThree();
    const snapshotStore = new InMemorySnapshotStore();
    expectInvalid(
      await rejection(deleteEntity("counter", "c", { evtLog, snapshotStore, signal: {} } as never)),
      /signal must be an AbortSignal/,
    );
    expect(await countOf(evtLog)).toBe(3);
  });

  it("an evtLog that cannot delete rejects with InvalidArgumentError", async () => {
    expectInvalid(
      await rejection(deleteEntity("counter", "c", { evtLog: {} } as never)),
      /evtLog that can delete/,
    );
  });
});

describe("A retention policy from a hostile caller", () => {
  const spawn = (retention: unknown) =>
    Entity.spawn("c", counter, {
      evtLog: new InMemoryEvtLog(),
      snapshotStore: new InMemorySnapshotStore({ history: 3 }),
      logger: silentLogger,
      retention: retention as never,
    });

  it.each([
    ["snapshotEvery", { snapshotEvery: 0 }],
    ["snapshotEvery", { snapshotEvery: Number.NaN }],
    ["keepSnapshots", { keepSnapshots: -1 }],
    ["keepSnapshots", { keepSnapshots: "2" }],
    ["batchSize", { batchSize: 0 }],
    ["batchSize", { batchSize: Number.POSITIVE_INFINITY }],
  ])("retention.%s %o rejects the spawn with InvalidArgumentError naming it", async (name, retention) => {
    expectInvalid(await rejection(spawn(retention)), new RegExp(`retention\\.${name}`));
  });

  it.each([["false"], [1]])(
    "retention.deleteEvents %o that is not a boolean rejects the spawn with InvalidArgumentError",
    async (deleteEvents) => {
      expectInvalid(
        await rejection(spawn({ snapshotEvery: 2, deleteEvents })),
        /retention\.deleteEvents must be a boolean/,
      );
    },
  );

  it("a retention that is null rejects the spawn with InvalidArgumentError", async () => {
    expectInvalid(await rejection(spawn(null)), /retention must be an object/);
  });
});

describe("runRetention from a hostile caller", () => {
  const stores = () => ({ evtLog: new InMemoryEvtLog(), snapshotStore: new InMemorySnapshotStore() });

  it("a bad id rejects (it does not throw synchronously) with InvalidArgumentError", async () => {
    const promise = (() => {
      try {
        return runRetention("counter", "", { ...stores(), policy: {} });
      } catch (error) {
        return expect.unreachable(`threw synchronously: ${String(error)}`);
      }
    })();
    expectInvalid(await rejection(promise), /entity id/);
  });

  it.each([
    ["options that are undefined", undefined, /options must be an object/],
    ["no snapshot store", { evtLog: new InMemoryEvtLog(), policy: {} }, /snapshotStore/],
    ["a policy that is null", { ...stores(), policy: null }, /retention must be an object/],
    ["a non-boolean deleteEvents", { ...stores(), policy: { deleteEvents: "false" } }, /deleteEvents/],
    ["a bad keepSnapshots", { ...stores(), policy: { keepSnapshots: 0 } }, /keepSnapshots/],
    ["a signal that is not an AbortSignal", { ...stores(), policy: {}, signal: {} }, /signal/],
  ])("%s rejects with InvalidArgumentError", async (_, options, pattern) => {
    expectInvalid(
      await rejection(Promise.resolve().then(() => runRetention("counter", "c", options as never))),
      pattern,
    );
  });
});
