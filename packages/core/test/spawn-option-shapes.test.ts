import {
  createHealthCheck,
  Entity,
  EntityRegistry,
  ErrorCode,
  isEventSourcedError,
  jsonBinarizer,
  silentLogger,
  upcastingBinarizer,
} from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, inc } from "./fixtures.js";

// Options from JavaScript (or cast past the types) are checked when a config is made from them: a
// collaborator of the wrong shape is the caller's error, named, not a RecoveryError around a TypeError, a
// DecodeError blaming stored events, or a crash in a background task later.

const log = new InMemoryEvtLog();
const wrong: [string, string, Record<string, unknown>][] = [
  ["evtLog is an empty object", "evtLog", { evtLog: {} }],
  ["evtLog is null", "evtLog", { evtLog: null }],
  ["evtLog is a string", "evtLog", { evtLog: "postgres://" }],
  ["snapshotStore has no load", "snapshotStore", { evtLog: log, snapshotStore: { save: async () => {} } }],
  ["binarizer is an empty object", "binarizer", { evtLog: log, binarizer: {} }],
  ["logger has no warn", "logger", { evtLog: log, logger: { debug() {}, error() {} } }],
  ["retryBackoff is a string", "retryBackoff", { evtLog: log, retryBackoff: "x" }],
  ["idempotency is null", "idempotency", { evtLog: log, idempotency: null }],
  ["freshReads is a string", "freshReads", { evtLog: log, freshReads: "yes" }],
  ["instrumentation is a number", "instrumentation", { evtLog: log, instrumentation: 5 }],
];

function errorOf(run: () => unknown): Promise<unknown> {
  return (async () => run())().then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe("spawn options from untyped code", () => {
  it.each(wrong)("Entity.spawn refuses options whose %s, naming the option", async (_, option, options) => {
    const error = await errorOf(() => Entity.spawn("a", counter, options as never));
    expect(isEventSourcedError(error, ErrorCode.InvalidArgument), String(error)).toBe(true);
    expect((error as Error).message).toContain(option);
  });

  it.each(wrong)("EntityRegistry refuses options whose %s when it is created", async (_, option, options) => {
    const error = await errorOf(() => new EntityRegistry(counter, options as never));
    expect(isEventSourcedError(error, ErrorCode.InvalidArgument), String(error)).toBe(true);
    expect((error as Error).message).toContain(option);
  });

  it("a logger that throws cannot crash the process or stop an entity from stopping", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const throwing = {
        debug: () => {
          throw new Error("debug hook broken");
        },
        warn: () => {
          throw new Error("warn hook broken");
        },
        error: () => {
          throw new Error("error hook broken");
        },
      };
      const snapshotStore = new InMemorySnapshotStore();
      snapshotStore.save = async () => {
        throw new Error("snapshot store down");
      };
      const ref = await Entity.spawn("t", counter, {
        evtLog: new InMemoryEvtLog(),
        snapshotStore,
        snapshotAfter: 1,
        logger: throwing,
      });
      // Each accepted command offers a snapshot whose save fails and is logged with warn, which throws.
      expect(await ref.handleCmd(inc(1))).toMatchObject({ kind: "accepted", seqNo: 1 });
      expect(await ref.handleCmd(inc(2))).toMatchObject({ kind: "accepted", seqNo: 2 });
      await ref.stop();
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("accepts the documented shapes", async () => {
    const ref = await Entity.spawn("ok", counter, {
      evtLog: new InMemoryEvtLog(),
      snapshotStore: new InMemorySnapshotStore(),
      logger: silentLogger,
      retryBackoff: { initialMs: 1 },
      idempotency: { maxKeys: 10 },
      freshReads: false,
    });
    expect(await ref.handleCmd(inc(1))).toMatchObject({ seqNo: 1 });
  });
});

describe("other options from untyped code", () => {
  const evtLog = new InMemoryEvtLog();
  const refused = async (run: () => unknown, pattern: RegExp) => {
    const error = await errorOf(run);
    expect(isEventSourcedError(error, ErrorCode.InvalidArgument), String(error)).toBe(true);
    expect((error as Error).message).toMatch(pattern);
  };

  it("health checks: options that are not an object, a check that is not a function", async () => {
    await refused(() => createHealthCheck(null as never), /options must be an object/);
    await refused(
      () => createHealthCheck({ checks: { x: 5 as never } }),
      /health check "x" must be a function/,
    );
  });

  it("snapshotVersion null, upcasters that are not an array or have no content types", async () => {
    await refused(
      () => Entity.spawn("a", counter, { evtLog, snapshotVersion: null as never }),
      /snapshotVersion must be an object/,
    );
    const json = jsonBinarizer<unknown, unknown>();
    await refused(() => upcastingBinarizer(json, null as never), /upcasters must be an array/);
    await refused(
      () =>
        upcastingBinarizer(json, [
          { from: 5, to: "application/json", upcast: (b: Uint8Array) => [b] } as never,
        ]),
      /from and to/,
    );
  });
});
