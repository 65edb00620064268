import {
  Entity,
  EntityRegistry,
  ErrorCode,
  InvalidArgumentError,
  isEventSourcedError,
  silentLogger,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { counter, inc } from "./fixtures.js";

// What a hostile caller can hand the registry: every bad argument rejects with InvalidArgumentError naming
// the argument and the rule, and leaves the log and the registry as they were.

const registries: EntityRegistry<unknown, unknown, never>[] = [];
function registry(options: Record<string, unknown> = {}) {
  const r = new EntityRegistry(counter, {
    evtLog: new InMemoryEvtLog(),
    logger: silentLogger,
    ...options,
  } as never);
  registries.push(r as unknown as EntityRegistry<unknown, unknown, never>);
  return r;
}
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

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

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable("did not throw");
}

describe("EntityRegistry options from a hostile caller", () => {
  it.each([[0], [-1], [Number.NaN], [1.5], [Number.POSITIVE_INFINITY], ["10"]])(
    "passivation.maxActive %s is refused with InvalidArgumentError naming it",
    (maxActive) => {
      expectInvalid(
        thrown(() => registry({ passivation: { maxActive } })),
        /passivation\.maxActive/,
      );
    },
  );

  it.each([[0], [-5], [Number.NaN], [Number.POSITIVE_INFINITY], [2 ** 31], ["1000"]])(
    "passivation.idleAfterMs %s is refused with InvalidArgumentError naming it",
    (idleAfterMs) => {
      expectInvalid(
        thrown(() => registry({ passivation: { idleAfterMs } })),
        /passivation\.idleAfterMs/,
      );
    },
  );

  it("passivation.sweepIntervalMs without idleAfterMs is refused", () => {
    expectInvalid(
      thrown(() => registry({ passivation: { sweepIntervalMs: 10 } })),
      /sweepIntervalMs needs passivation\.idleAfterMs/,
    );
  });

  it.each([
    [{ initialMs: 0 }],
    [{ initialMs: -1 }],
    [{ initialMs: Number.NaN }],
    [{ initialMs: 100, maxMs: 10 }],
    [{ maxMs: Number.POSITIVE_INFINITY }],
    [{ initialMs: "100" }],
  ])("failureBackoff %o is refused with InvalidArgumentError naming it", (failureBackoff) => {
    expectInvalid(
      thrown(() => registry({ failureBackoff })),
      /failureBackoff/,
    );
  });

  it.each([[null], [42], ["often"]])(
    "passivation %o that is not an object is refused with InvalidArgumentError",
    (value) => {
      expectInvalid(
        thrown(() => registry({ passivation: value })),
        /passivation must be an object/,
      );
    },
  );

  it("options that are not an object are refused with InvalidArgumentError", () => {
    expectInvalid(
      thrown(() => new EntityRegistry(counter, undefined as never)),
      /options/,
    );
    expectInvalid(
      thrown(() => new EntityRegistry(counter, null as never)),
      /options/,
    );
  });

  it.each(["maxActive", "idleAfterMs", "sweepIntervalMs"])(
    "%s at the top level (not under passivation) is refused, naming where it belongs",
    (key) => {
      expectInvalid(
        thrown(() => registry({ [key]: 100 })),
        new RegExp(`${key} belongs under passivation`),
      );
    },
  );

  it("a canHost that is not a function is refused with InvalidArgumentError naming it", () => {
    expectInvalid(
      thrown(() => registry({ canHost: true })),
      /canHost must be a function/,
    );
  });
});

describe("EntityRegistry ids from a hostile caller", () => {
  it.each([
    ["an empty id", "", /non-empty string/],
    ["an id of 513 UTF-8 bytes", `${"é".repeat(256)}x`, /513 bytes of UTF-8, at most 512/],
    ["an id with a lone surrogate", "a\uD800b", /lone UTF-16 surrogate/],
    ["an id with NUL", "a\0b", /NUL/],
    ["a number as id", 42, /non-empty string/],
    ["undefined as id", undefined, /non-empty string/],
    ["an object as id", { toString: () => "a" }, /non-empty string/],
  ])("send with %s rejects with InvalidArgumentError and spawns nothing", async (_, id, pattern) => {
    const r = registry();
    expectInvalid(await rejection(r.send(id as string, inc(1))), pattern);
    expect(r.stats).toMatchObject({ active: 0, spawning: 0, waiting: 0, recoveries: 0 });
  });

  it("get with a bad id rejects with InvalidArgumentError", async () => {
    const r = registry();
    expectInvalid(await rejection(r.get("a\0")), /NUL/);
  });

  it("an id of exactly 512 UTF-8 bytes is accepted", async () => {
    const r = registry();
    const id = "é".repeat(256);
    expect(await r.send(id, inc(1))).toMatchObject({ kind: "accepted", reply: 1 });
  });

  it("passivate with a bad id rejects with InvalidArgumentError", async () => {
    const r = registry();
    expectInvalid(await rejection(r.passivate(42 as never)), /non-empty string/);
    expectInvalid(await rejection(r.passivate("")), /non-empty string/);
  });

  it("passivateWhere with a predicate that is not a function rejects with InvalidArgumentError", async () => {
    const r = registry();
    await r.send("a", inc(1));
    expectInvalid(await rejection(r.passivateWhere("a" as never)), /predicate must be a function/);
    expect(r.phase("a")).toBe("active");
  });
});

describe("EntityRegistry commands and send options from a hostile caller", () => {
  it.each([[null], [undefined]])(
    "a %s command rejects with InvalidArgumentError and appends nothing",
    async (cmd) => {
      const evtLog = new InMemoryEvtLog();
      const r = registry({ evtLog });
      expectInvalid(await rejection(r.send("a", cmd as never)), /command must not be/);
      expect(await evtLog.lastSeqNo("counter", "a")).toBe(0);
      // The entity is still usable.
      expect(await r.send("a", inc(1))).toMatchObject({ kind: "accepted", reply: 1 });
    },
  );

  it("a command the handler cannot decide (a number) rejects with InvalidArgumentError and appends nothing", async () => {
    const evtLog = new InMemoryEvtLog();
    const r = registry({ evtLog });
    expectInvalid(await rejection(r.send("a", 42 as never)), /handleCmd returned/);
    expect(await evtLog.lastSeqNo("counter", "a")).toBe(0);
  });

  it("a bad command to a resident entity rejects the same way and the entity keeps serving", async () => {
    const r = registry();
    await r.send("a", inc(1));
    expectInvalid(await rejection(r.send("a", null as never)), /command must not be null/);
    expect(await r.send("a", inc(1))).toMatchObject({ kind: "accepted", reply: 2 });
  });

  it.each([
    ["an empty key", ""],
    ["a key of 257 characters", "k".repeat(257)],
    ["a huge key", "k".repeat(1_000_000)],
    ["a number", 7],
    ["null", null],
  ])("idempotencyKey as %s rejects with InvalidArgumentError naming it", async (_, idempotencyKey) => {
    const evtLog = new InMemoryEvtLog();
    const r = registry({ evtLog });
    expectInvalid(await rejection(r.send("a", inc(1), { idempotencyKey } as never)), /idempotencyKey/);
    await r.send("b", inc(1));
    expectInvalid(await rejection(r.send("b", inc(1), { idempotencyKey } as never)), /idempotencyKey/);
    expect(await evtLog.lastSeqNo("counter", "a")).toBe(0);
    expect(await evtLog.lastSeqNo("counter", "b")).toBe(1);
  });

  it.each([
    ["a lone surrogate", "k\uDC00"],
    ["NUL", "k\0"],
  ])(
    "an idempotencyKey with %s rejects with InvalidArgumentError (it could not be stored as given)",
    async (_, idempotencyKey) => {
      const r = registry();
      await r.send("b", inc(1));
      expectInvalid(await rejection(r.send("b", inc(1), { idempotencyKey })), /idempotencyKey/);
    },
  );

  it.each([[Number.NaN], [-1], [Number.POSITIVE_INFINITY], ["100"], [2 ** 31]])(
    "timeoutMs %s rejects with InvalidArgumentError, for a new entity and for a resident idle one",
    async (timeoutMs) => {
      const evtLog = new InMemoryEvtLog();
      const r = registry({ evtLog });
      expectInvalid(await rejection(r.send("a", inc(1), { timeoutMs } as never)), /timeoutMs/);
      await r.send("b", inc(1));
      expectInvalid(await rejection(r.send("b", inc(1), { timeoutMs } as never)), /timeoutMs/);
      expect(await evtLog.lastSeqNo("counter", "b")).toBe(1);
    },
  );

  it("a signal that is not an AbortSignal rejects with InvalidArgumentError", async () => {
    const r = registry();
    await r.send("b", inc(1));
    expectInvalid(await rejection(r.send("a", inc(1), { signal: {} } as never)), /signal/);
    expectInvalid(await rejection(r.send("b", inc(1), { signal: "x" } as never)), /signal/);
  });

  it("options that are not an object reject with InvalidArgumentError", async () => {
    const r = registry();
    await r.send("b", inc(1));
    expectInvalid(await rejection(r.send("b", inc(1), 5 as never)), /options/);
    expectInvalid(await rejection(r.send("a", inc(1), null as never)), /options/);
  });
});

describe("EntityRegistry.prefetch and Entity.spawnMany from a hostile caller", () => {
  it.each([
    ["a string", "abc"],
    ["undefined", undefined],
    ["a Set", new Set(["a"])],
  ])("prefetch with %s instead of an array rejects with InvalidArgumentError", async (_, ids) => {
    const r = registry();
    expectInvalid(await rejection(r.prefetch(ids as never)), /array of entity ids/);
    expect(r.stats).toMatchObject({ active: 0, recoveries: 0 });
  });

  it("prefetch with one bad id among good ones rejects with InvalidArgumentError and spawns none", async () => {
    const r = registry();
    expectInvalid(await rejection(r.prefetch(["a", "b\0", "c"])), /NUL/);
    expect(r.stats).toMatchObject({ active: 0, recoveries: 0 });
  });

  it("prefetch with a repeated id recovers it once", async () => {
    const r = registry();
    await r.prefetch(["a", "a"]);
    expect(r.stats).toMatchObject({ active: 1, recoveries: 1 });
  });

  it("spawnMany with a repeated or bad id rejects with InvalidArgumentError and starts none", async () => {
    const evtLog = new InMemoryEvtLog();
    expectInvalid(await rejection(Entity.spawnMany(["a", "a"], counter, { evtLog })), /twice/);
    expectInvalid(await rejection(Entity.spawnMany(["a", ""], counter, { evtLog })), /non-empty/);
    expectInvalid(await rejection(Entity.spawnMany("ab" as never, counter, { evtLog })), /array/);
  });

  it("spawnMany and spawn with a signal that is not an AbortSignal reject with InvalidArgumentError", async () => {
    const evtLog = new InMemoryEvtLog();
    const signal = {} as AbortSignal;
    expectInvalid(await rejection(Entity.spawnMany(["a"], counter, { evtLog, signal })), /signal/);
    expectInvalid(await rejection(Entity.spawn("a", counter, { evtLog, signal })), /signal/);
  });
});

describe("EntityRegistry hooks that misbehave", () => {
  it.each([
    ["undefined", undefined],
    ["a string", "log"],
    ["an object without persist", {}],
  ])(
    "an evtLogFor returning %s rejects the send with InvalidArgumentError and leaves no slot",
    async (_, log) => {
      const r = registry({ evtLogFor: () => log });
      expectInvalid(await rejection(r.send("a", inc(1))), /evtLogFor returned/);
      expect(r.stats).toMatchObject({ active: 0, spawning: 0, waiting: 0 });
      expect(r.phase("a")).toBeUndefined();
    },
  );

  it("a canHost that throws rejects the send with its error and leaves no slot", async () => {
    const r = registry({
      canHost: () => {
        throw new Error("ownership unknown");
      },
    });
    await expect(r.send("a", inc(1))).rejects.toThrow("ownership unknown");
    expect(r.stats).toMatchObject({ active: 0, spawning: 0, waiting: 0 });
    expect(r.phase("a")).toBeUndefined();
  });
});
