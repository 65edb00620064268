import { ErrorCode, isEventSourcedError, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import { atLeastOnce, blueGreen, Projection, type ProjectionOptions } from "@eventsourced/projections";
import { exactlyOnce } from "@eventsourced/projections/postgres";
import { InMemoryProjectionStore } from "@eventsourced/projections/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type Deposited, deposit, depositBinarizer } from "./support/fixtures.js";

// Projection options and operator calls from a hostile caller: each bad value is refused at once with a
// typed error (CONFIGURATION_INVALID) naming the option or argument, never a hang, a TypeError from inside
// the background loop, or a checkpoint moved where events would be skipped.

const running: Projection<Deposited>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

function options(extra: Record<string, unknown> = {}): ProjectionOptions<Deposited> {
  const store = new InMemoryProjectionStore();
  const type = uniqueTypeName("acct");
  return {
    name: `p-${type}`,
    evtLog: new InMemoryEvtLog(),
    type,
    binarizer: depositBinarizer,
    handler: atLeastOnce<Deposited>({ store, saveAfterEvents: 1, handle: () => {} }),
    batch: { maxEvents: 50, maxWaitMs: 5 },
    logger: silentLogger,
    statusPollMs: 20,
    ...extra,
  } as ProjectionOptions<Deposited>;
}

function expectConfiguration(error: unknown, key: string | RegExp): void {
  expect(isEventSourcedError(error, ErrorCode.Configuration)).toBe(true);
  if (typeof key === "string") expect((error as { key: string }).key).toBe(key);
  else expect((error as Error).message).toMatch(key);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable("did not throw");
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable("resolved"),
    (error: unknown) => error,
  );
}

/** A running projection over `events` deposits, caught up. */
async function caughtUp(
  events: number,
): Promise<{ p: Projection<Deposited>; head: number; log: InMemoryEvtLog }> {
  const o = options();
  const log = o.evtLog as InMemoryEvtLog;
  let head = 0;
  for (let i = 0; i < events; i++) ({ position: head } = await log.persist(o.type, "a", i, [deposit(1)]));
  const p = Projection.create(o);
  running.push(p);
  p.start();
  await p.waitFor(head);
  return { p, head, log };
}

describe("Projection options from a hostile caller", () => {
  it.each([
    ["undefined", undefined],
    ["null", null],
  ])("options that are %s are refused with a typed error", (_, value) => {
    expectConfiguration(
      thrown(() => Projection.create(value as never)),
      /options/,
    );
  });

  it.each([
    ["an empty name", ""],
    ["a name of 101 characters", "p".repeat(101)],
    ["a name with a dot", "a.b"],
    ["a name with NUL", "a\0"],
    ["a number", 7],
  ])("%s is refused with a typed error naming `name`", (_, name) => {
    expectConfiguration(
      thrown(() => Projection.create(options({ name }))),
      "name",
    );
  });

  it.each([[0], [-1], [Number.NaN], [1.5], [Number.POSITIVE_INFINITY], [1e12], ["10"]])(
    "batch.maxEvents %s is refused with a typed error naming it",
    (maxEvents) => {
      expectConfiguration(
        thrown(() => Projection.create(options({ batch: { maxEvents } }))),
        "batch.maxEvents",
      );
    },
  );

  it.each([[0], [Number.NaN], [-5], [2 ** 31]])(
    "batch.maxWaitMs %s is refused with a typed error naming it",
    (maxWaitMs) => {
      expectConfiguration(
        thrown(() => Projection.create(options({ batch: { maxWaitMs } }))),
        "batch.maxWaitMs",
      );
    },
  );

  it.each([[0], [Number.NaN], [Number.POSITIVE_INFINITY], [2 ** 31]])(
    "statusPollMs %s is refused with a typed error naming it",
    (statusPollMs) => {
      expectConfiguration(
        thrown(() => Projection.create(options({ statusPollMs }))),
        "statusPollMs",
      );
    },
  );

  it.each([[{ initialMs: 0 }], [{ initialMs: 10, maxMs: 1 }], [{ maxMs: Number.NaN }]])(
    "retryBackoff %o is refused at create, not inside the running loop",
    (retryBackoff) => {
      expectConfiguration(
        thrown(() => Projection.create(options({ retryBackoff }))),
        "retryBackoff",
      );
    },
  );

  it.each([[{ initialMs: -1 }], [{ initialMs: 10, maxMs: 1 }]])(
    "onError.backoff %o is refused at create",
    (backoff) => {
      expectConfiguration(
        thrown(() => Projection.create(options({ onError: { backoff } }))),
        "onError.backoff",
      );
    },
  );

  it.each([
    ["evtLog", { evtLog: undefined }],
    ["binarizer", { binarizer: {} }],
    ["handler", { handler: undefined }],
    ["isInfrastructureError", { isInfrastructureError: "yes" }],
  ])("a missing or malformed %s is refused with a typed error naming it", (key, extra) => {
    expectConfiguration(
      thrown(() => Projection.create(options(extra))),
      key,
    );
  });

  it.each([[0], [Number.NaN], [Number.POSITIVE_INFINITY]])(
    "atLeastOnce saveAfterEvents %s is refused with a typed error",
    (saveAfterEvents) => {
      const store = new InMemoryProjectionStore();
      const error = thrown(() => atLeastOnce({ store, saveAfterEvents, handle: () => {} }));
      expect(isEventSourcedError(error)).toBe(true);
      expect((error as Error).message).toMatch(/saveAfterEvents/);
    },
  );
});

describe("Projection positions from a hostile caller", () => {
  it.each([[Number.NaN], [-1], [1.5], [Number.POSITIVE_INFINITY], ["2"]])(
    "waitFor(%s) rejects at once with a typed error naming `position` instead of hanging",
    async (position) => {
      const { p } = await caughtUp(2);
      expectConfiguration(await rejection(p.waitFor(position as never)), "position");
    },
  );

  it("waitFor with a signal that is not an AbortSignal rejects with a typed error", async () => {
    const { p } = await caughtUp(1);
    expectConfiguration(await rejection(p.waitFor(5, {} as never)), "signal");
  });

  it("waitFor beyond the head waits for events still to come (it is not an error)", async () => {
    const { p, head, log } = await caughtUp(2);
    let done = false;
    const waiting = p.waitFor(head + 1).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    await log.persist(p.type, "a", 2, [deposit(1)]);
    await waiting;
  });

  it.each([[Number.NaN], [-1], [1.5], ["1"]])(
    "reset(%s) rejects with a typed error naming `position` and leaves the checkpoint",
    async (position) => {
      const { p, head } = await caughtUp(3);
      expectConfiguration(await rejection(p.reset(position as never)), "position");
      expect(p.status).toMatchObject({ position: head });
    },
  );

  it("reset beyond the head of the type rejects with a typed error: events written later would be skipped", async () => {
    const { p, head } = await caughtUp(3);
    const error = await rejection(p.reset(head + 100));
    expectConfiguration(error, "position");
    expect((error as Error).message).toMatch(/beyond the head/);
    expect(p.status).toMatchObject({ position: head });
  });

  it("reset to the head is allowed", async () => {
    const { p, head } = await caughtUp(3);
    await p.reset(head);
    expect(p.status).toMatchObject({ position: head });
  });

  it.each([[Number.NaN], [-1], ["1"]])(
    "deleteDeadLetter(%s) rejects with a typed error naming `position`",
    async (position) => {
      const { p } = await caughtUp(1);
      expectConfiguration(await rejection(p.deleteDeadLetter(position as never)), "position");
    },
  );

  it("deleteDeadLetter of a position with no dead letter resolves to false", async () => {
    const { p } = await caughtUp(1);
    expect(await p.deleteDeadLetter(1)).toBe(false);
  });

  it("redrive of a position with no dead letter rejects with a typed error naming `position`", async () => {
    const { p } = await caughtUp(1);
    const error = await rejection(p.redrive(1));
    expectConfiguration(error, "position");
    expect((error as Error).message).toMatch(/no dead letter at position 1/);
  });

  it.each([[Number.NaN], [-1]])(
    "redrive(%s) rejects with a typed error naming `position`",
    async (position) => {
      const { p } = await caughtUp(1);
      expectConfiguration(await rejection(p.redrive(position)), "position");
    },
  );
});

describe("Projection handlers and blueGreen from a hostile caller", () => {
  it.each([
    ["no handle", { handle: undefined }, /handle must be a function/],
    ["a handle that is not a function", { handle: "apply" }, /handle must be a function/],
    ["a reset that is not a function", { handle: () => {}, reset: 1 }, /reset must be a function/],
    ["no store", { store: undefined, handle: () => {} }, /store must be a ProjectionStore/],
  ])(
    "atLeastOnce with %s is refused with InvalidArgumentError instead of dead-lettering every event",
    (_, extra, pattern) => {
      const error = thrown(() => atLeastOnce({ store: new InMemoryProjectionStore(), ...extra } as never));
      expect(isEventSourcedError(error, ErrorCode.InvalidArgument)).toBe(true);
      expect((error as Error).message).toMatch(pattern);
    },
  );

  it("exactlyOnce without a handle is refused with InvalidArgumentError", () => {
    const error = thrown(() => exactlyOnce(new InMemoryProjectionStore() as never, {} as never));
    expect(isEventSourcedError(error, ErrorCode.InvalidArgument)).toBe(true);
    expect((error as Error).message).toMatch(/exactlyOnce: handle must be a function/);
  });

  it("blueGreen with the same projection as current and next rejects and leaves it running", async () => {
    const { p } = await caughtUp(1);
    const swap = async () => expect.unreachable("swapped");
    const error = await rejection(blueGreen({ current: p, next: p, swap }));
    expect(isEventSourcedError(error, ErrorCode.InvalidArgument)).toBe(true);
    expect((error as Error).message).toMatch(/new name/);
    expect(p.status.state).toBe("running");
  });

  it("blueGreen with a swap that is not a function rejects before starting next", async () => {
    const { p } = await caughtUp(1);
    const next = Projection.create(options());
    const error = await rejection(blueGreen({ current: p, next, swap: "now" as never }));
    expect(isEventSourcedError(error, ErrorCode.InvalidArgument)).toBe(true);
    expect(next.status.state).not.toBe("running");
    expect(p.status.state).toBe("running");
  });
});

describe("A projection store called directly by a hostile caller", () => {
  it.each([
    [
      "setStatus with an unknown status",
      (s: InMemoryProjectionStore) => s.setStatus("p", "bogus" as never),
      /status/,
    ],
    ["reset to NaN", (s: InMemoryProjectionStore) => s.reset("p", Number.NaN), /position/],
    ["reset to -1", (s: InMemoryProjectionStore) => s.reset("p", -1), /position/],
    ["deleteDeadLetter at 1.5", (s: InMemoryProjectionStore) => s.deleteDeadLetter("p", 1.5), /position/],
    [
      "a redrive request without a position",
      (s: InMemoryProjectionStore) => s.request("p", { kind: "redrive" } as never),
      /request\.position/,
    ],
    [
      "a request of an unknown kind",
      (s: InMemoryProjectionStore) => s.request("p", { kind: "drop" } as never),
      /request kind/,
    ],
  ])("%s rejects with InvalidArgumentError and changes nothing", async (_, call, pattern) => {
    const store = new InMemoryProjectionStore();
    await store.claim("p", "acct", 0);
    const before = await store.load("p");
    const error = await rejection(call(store));
    expect(isEventSourcedError(error, ErrorCode.InvalidArgument)).toBe(true);
    expect((error as Error).message).toMatch(pattern);
    expect(await store.load("p")).toEqual(before);
  });
});
