import { ErrorCode, isEventSourcedError, silentLogger } from "@eventsourced/core";
import { LeaseKeeper, type LeaseKeeperOptions } from "@eventsourced/leases";
import { InMemoryLeaseStore } from "@eventsourced/leases/testing";
import { afterEach, describe, expect, it } from "vitest";

// Lease keys, owners, TTLs and keeper timing from a hostile caller: a typed error naming the argument or
// option, nothing held, and no keeper that spins (a timer beyond 2^31 - 1 ms fires at once).

const keepers: LeaseKeeper[] = [];
function keeper(options: Record<string, unknown> = {}, store = new InMemoryLeaseStore({ ttlMs: 10_000 })) {
  const made = new LeaseKeeper(store, { logger: silentLogger, ...options } as LeaseKeeperOptions);
  keepers.push(made);
  return made;
}
afterEach(async () => {
  await Promise.all(keepers.splice(0).map((k) => k.close()));
});

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

function expectCode(error: unknown, code: string, pattern: RegExp): void {
  expect(isEventSourcedError(error, code)).toBe(true);
  expect((error as Error).message).toMatch(pattern);
}

describe("Lease keys from a hostile caller", () => {
  it.each([
    ["an empty key", ""],
    ["a key of 256 characters", "k".repeat(256)],
    ["a key with a wildcard", "shard.*"],
    ["a key with an empty token", "a..b"],
    ["a key with NUL", "k\0"],
    ["a key with a lone surrogate", "k\uD800"],
    ["a key with a space", "a b"],
    ["a number", 5],
    ["undefined", undefined],
  ])("acquire with %s rejects with InvalidArgumentError and holds nothing", async (_, key) => {
    const store = new InMemoryLeaseStore({ ttlMs: 10_000 });
    const k = keeper({}, store);
    expectCode(await rejection(k.acquire(key as string)), ErrorCode.InvalidArgument, /invalid lease key/);
    expectCode(await rejection(k.tryAcquire(key as string)), ErrorCode.InvalidArgument, /invalid lease key/);
    expect(k.leases).toEqual([]);
  });

  it("a key of 255 characters is accepted", async () => {
    const k = keeper();
    const lease = await k.acquire("k".repeat(255));
    expect(lease.isValid()).toBe(true);
  });

  it.each([
    ["a signal that is not an AbortSignal", { signal: {} }],
    ["options that are null", null],
    ["options that are a string", "now"],
  ])("acquire with %s rejects with InvalidArgumentError and holds nothing", async (_, options) => {
    const k = keeper();
    expectCode(await rejection(k.acquire("k", options as never)), ErrorCode.InvalidArgument, /acquire/);
    expect(k.leases).toEqual([]);
  });
});

describe("Lease stores and keepers from a hostile caller", () => {
  it.each([[0], [99], [Number.NaN], [1.5e3 + 0.5], [86_400_001], ["1000"]])(
    "an in-memory store with ttlMs %s is refused with ConfigurationError naming ttlMs",
    (ttlMs) => {
      const error = thrown(() => new InMemoryLeaseStore({ ttlMs: ttlMs as number }));
      expectCode(error, ErrorCode.Configuration, /ttlMs/);
      expect((error as { key: string }).key).toBe("ttlMs");
    },
  );

  it.each([
    ["marginMs", { marginMs: -1 }],
    ["marginMs", { marginMs: Number.NaN }],
    ["marginMs", { marginMs: 10_000 }],
    ["marginMs", { marginMs: "100" }],
    ["renewEveryMs", { renewEveryMs: 0 }],
    ["renewEveryMs", { renewEveryMs: 9_500 }],
    ["renewEveryMs", { renewEveryMs: "1000" }],
    ["pollMs", { pollMs: 0 }],
    ["pollMs", { pollMs: Number.POSITIVE_INFINITY }],
    ["pollMs", { pollMs: 2 ** 31 }],
    ["pollMs", { pollMs: "500" }],
  ])("a keeper with a bad %s is refused with ConfigurationError naming it", (key, options) => {
    const error = thrown(() => keeper(options));
    expect(isEventSourcedError(error, ErrorCode.Configuration)).toBe(true);
    expect((error as { key: string }).key).toBe(key);
  });

  it.each([
    ["an empty owner", ""],
    ["an owner with NUL", "me\0"],
    ["an owner with a lone surrogate", "me\uDC00"],
    ["an owner of 256 characters", "o".repeat(256)],
    ["a number", 1],
  ])("a keeper with %s is refused with InvalidArgumentError", (_, owner) => {
    expectCode(
      thrown(() => keeper({ owner })),
      ErrorCode.InvalidArgument,
      /invalid lease owner/,
    );
  });

  it.each([
    ["onLost", { onLost: "log" }],
    ["onAcquired", { onAcquired: 1 }],
    ["onLog", { onLog: {} }],
  ])("a keeper whose %s is not a function is refused with ConfigurationError naming it", (key, options) => {
    const error = thrown(() => keeper(options));
    expect(isEventSourcedError(error, ErrorCode.Configuration)).toBe(true);
    expect((error as { key: string }).key).toBe(key);
  });

  it("a keeper without a store is refused with InvalidArgumentError", () => {
    expectCode(
      thrown(() => new LeaseKeeper(undefined as never)),
      ErrorCode.InvalidArgument,
      /LeaseStore/,
    );
  });

  it("a keeper with options that are null is refused with InvalidArgumentError", () => {
    const store = new InMemoryLeaseStore({ ttlMs: 10_000 });
    expectCode(
      thrown(() => new LeaseKeeper(store, null as never)),
      ErrorCode.InvalidArgument,
      /options/,
    );
  });
});

describe("Lease grants and validity checks from a hostile caller", () => {
  it.each([
    ["null", null],
    ["an epoch that is NaN", { key: "k", owner: "me", epoch: Number.NaN }],
    ["an epoch of 1.5", { key: "k", owner: "me", epoch: 1.5 }],
    ["an epoch of 1e20", { key: "k", owner: "me", epoch: 1e20 }],
    ["no owner", { key: "k", epoch: 1 }],
  ])(
    "a store refuses a grant that is %s with InvalidArgumentError, never an unknown outcome",
    async (_, grant) => {
      const store = new InMemoryLeaseStore({ ttlMs: 10_000 });
      for (const call of [
        () => store.renew(grant as never),
        () => store.renewMany([grant as never]),
        () => store.release(grant as never),
      ]) {
        expectCode(await rejection(call()), ErrorCode.InvalidArgument, /lease grant|lease owner/);
      }
      expectCode(await rejection(store.renewMany(grant as never)), ErrorCode.InvalidArgument, /grant/);
    },
  );

  it("validFor(Infinity) is false, validFor(-Infinity) is whether it is valid now, validFor(NaN) is refused", async () => {
    const lease = await keeper().acquire("k");
    expect(lease.validFor(Number.POSITIVE_INFINITY)).toBe(false);
    expect(lease.validFor(Number.NEGATIVE_INFINITY)).toBe(true);
    expectCode(
      thrown(() => lease.validFor(Number.NaN)),
      ErrorCode.InvalidArgument,
      /validFor/,
    );
  });
});
