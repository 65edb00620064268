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
  it("leaves nothing behind on the signal of its run for each status check", async () => {
    // The signals the runtime combines: the first one combined is the signal of the run (start to stop).
    const combined: AbortSignal[][] = [];
    const any = AbortSignal.any.bind(AbortSignal);
    vi.spyOn(AbortSignal, "any").mockImplementation((signals) => {
      combined.push([...signals]);
      return any(signals);
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
    const run = combined[0]![0]!;
    const before = store.loads;
    await waitUntil(() => store.loads >= before + 200, "200 status checks while paused");
    expect(dependantsOf(run)).toBeLessThan(10);
    await projection.stop();
  });
});
