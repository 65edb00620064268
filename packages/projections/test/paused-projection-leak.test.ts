import { getEventListeners } from "node:events";
import { silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import { atLeastOnce, Projection } from "@eventsourced/projections";
import { InMemoryProjectionStore } from "@eventsourced/projections/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Deposited, depositBinarizer, waitUntil } from "./support/fixtures.js";

/**
 * How many signals `signal` keeps track of as its dependants: `AbortSignal.any([signal, ...])` adds its
 * result to a set on every source signal, and Node 20 never prunes that set while `signal` lives.
 * Internal to Node: 0 when the set does not exist.
 */
function dependantsOf(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === "kDependantSignals");
  const set =
    key === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[key];
  return set?.size ?? 0;
}

/** A store that counts the status checks of a paused projection. */
class CountingStore extends InMemoryProjectionStore {
  loads = 0;
  override load(name: string) {
    this.loads++;
    return super.load(name);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a paused projection", () => {
  it("leaves nothing behind on the signals it waits on, however many status checks", async () => {
    // Every signal the runtime listens on: the run's (start to stop) among them.
    const watched = new Set<AbortSignal>();
    const add = AbortSignal.prototype.addEventListener;
    vi.spyOn(AbortSignal.prototype, "addEventListener").mockImplementation(function (
      this: AbortSignal,
      ...args: Parameters<AbortSignal["addEventListener"]>
    ) {
      watched.add(this);
      return add.apply(this, args);
    });
    const store = new CountingStore();
    const projection = Projection.create<Deposited>({
      name: "paused",
      evtLog: new InMemoryEvtLog(),
      type: uniqueTypeName("acct"),
      binarizer: depositBinarizer,
      handler: atLeastOnce<Deposited>({ store, handle: () => {} }),
      logger: silentLogger,
      statusPollMs: 1,
    });
    projection.start();
    await waitUntil(() => projection.status.state === "running", "the projection to run");
    await projection.pause();
    await waitUntil(() => projection.status.state === "paused", "the pause");
    const before = store.loads;
    await waitUntil(() => store.loads >= before + 200, "200 status checks while paused");
    expect(watched.size).toBeGreaterThan(0);
    for (const signal of watched) {
      expect(dependantsOf(signal)).toBeLessThan(10);
      expect(getEventListeners(signal, "abort").length).toBeLessThan(10);
    }
    await projection.stop();
  });
});
