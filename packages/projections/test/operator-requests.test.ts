import { silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import { atLeastOnce, type ProjectedEvt, Projection } from "@eventsourced/projections";
import { InMemoryProjectionStore } from "@eventsourced/projections/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type Deposited, deposit, depositBinarizer, waitUntil } from "./support/fixtures.js";

// Requests stored by an operator (the eventsourced CLI, in another process) and performed by the running
// instance with its own handler. Here the "other process" is a direct call on the shared store.

const running: Projection<Deposited>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

function setup(refuse: (e: ProjectedEvt<Deposited>) => boolean) {
  const log = new InMemoryEvtLog();
  const store = new InMemoryProjectionStore();
  const type = uniqueTypeName("acct");
  const applied: number[] = [];
  const projection = Projection.create<Deposited>({
    name: `p-${type}`,
    evtLog: log,
    type,
    binarizer: depositBinarizer,
    handler: atLeastOnce<Deposited>({
      store,
      saveAfterEvents: 1,
      handle: (evts) => {
        if (evts.some(refuse)) throw new Error("handler refuses a poison event");
        for (const e of evts) applied.push(e.evt.amount);
      },
      reset: () => {
        applied.length = 0;
      },
    }),
    batch: { maxEvents: 50, maxWaitMs: 5 },
    onError: { retries: 0, backoff: { initialMs: 1, maxMs: 2 } },
    logger: silentLogger,
    statusPollMs: 20,
  });
  running.push(projection);
  const write = async (amounts: number[], poisonAt = -1) => {
    let seqNo = await log.lastSeqNo(type, "a");
    let position = 0;
    for (const [i, amount] of amounts.entries()) {
      ({ seqNo, position } = await log.persist(type, "a", seqNo, [deposit(amount, i === poisonAt)]));
    }
    return position;
  };
  return { store, projection, applied, write };
}

describe("operator requests performed by the running instance", () => {
  it("a re-drive stored from outside applies the dead letter through the handler and removes both", async () => {
    let refusing = true;
    const s = setup((e) => refusing && e.evt.poison === true);
    s.projection.start();
    await s.projection.waitFor(await s.write([1, 2, 3], 1));
    expect(s.applied).toEqual([1, 3]);
    refusing = false;
    const request = await s.store.request(s.projection.name, { kind: "redrive", position: 2 });
    expect(request).toMatchObject({ kind: "redrive", position: 2 });
    await waitUntil(
      async () => (await s.store.load(s.projection.name))?.requests === undefined,
      "the re-drive",
    );
    expect(s.applied).toEqual([1, 3, 2]);
    expect(await s.store.deadLetters(s.projection.name)).toEqual([]);
    expect(s.projection.status.state).toBe("running");
  });

  it("a re-drive whose handler fails again is removed and keeps its dead letter", async () => {
    const s = setup((e) => e.evt.poison === true);
    s.projection.start();
    await s.projection.waitFor(await s.write([1, 2], 1));
    await s.store.request(s.projection.name, { kind: "redrive", position: 2 });
    await waitUntil(
      async () => (await s.store.load(s.projection.name))?.requests === undefined,
      "the attempt",
    );
    expect((await s.store.deadLetters(s.projection.name)).map((l) => l.position)).toEqual([2]);
    expect(s.projection.status.state).toBe("running");
  });

  it("a rebuild stored while paused runs the handler's reset; the projection stays paused, then replays", async () => {
    const s = setup(() => false);
    s.projection.start();
    await s.projection.waitFor(await s.write([1, 2]));
    await s.store.setStatus(s.projection.name, "paused");
    await waitUntil(() => s.projection.status.state === "paused", "the pause");
    await s.store.request(s.projection.name, { kind: "rebuild" });
    await waitUntil(
      async () => (await s.store.load(s.projection.name))?.requests === undefined,
      "the rebuild",
    );
    expect(s.applied).toEqual([]);
    expect(await s.store.load(s.projection.name)).toMatchObject({ position: 0, status: "paused" });
    await s.projection.resume();
    await waitUntil(() => s.applied.length === 2, "the replay");
    expect(s.applied).toEqual([1, 2]);
  });

  it("a request for a projection that never ran is refused by the store (undefined)", async () => {
    const s = setup(() => false);
    expect(await s.store.request("never-ran", { kind: "rebuild" })).toBeUndefined();
  });
});
