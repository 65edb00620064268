import { silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import { atLeastOnce, Projection } from "@eventsourced/projections";
import { InMemoryLeases, InMemoryProjectionStore } from "@eventsourced/projections/testing";
import { describe, expect, it } from "vitest";
import { type Deposited, deposit, depositBinarizer } from "./support/fixtures.js";

describe("Projection.lag", () => {
  it("is the stored checkpoint's lag before this instance claimed it (not the whole log)", async () => {
    const log = new InMemoryEvtLog();
    const store = new InMemoryProjectionStore();
    const type = uniqueTypeName("lagged");
    for (let seqNo = 0; seqNo < 10; seqNo++) await log.persist(type, "a", seqNo, [deposit(1)]);
    const leases = new InMemoryLeases();
    // The active instance holds on to the 11th event, so the stored checkpoint stays at the 10th.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const create = (owner: string) =>
      Projection.create<Deposited>({
        name: "lagged",
        evtLog: log,
        type,
        binarizer: depositBinarizer,
        handler: atLeastOnce<Deposited>({
          store,
          saveAfterEvents: 1,
          handle: async (evts) => {
            if (evts.some((e) => e.seqNo > 10)) await gate;
          },
        }),
        lease: leases.keeper(owner),
        logger: silentLogger,
      });
    const first = create("first");
    first.start();
    await first.whenCaughtUp();
    await log.persist(type, "a", 10, [deposit(1)]);
    const standby = create("second"); // waits behind `first`'s lease: it never claimed the checkpoint
    standby.start();
    try {
      expect(await standby.lag()).toMatchObject({ events: 1, headPosition: 11, position: 10 });
    } finally {
      release();
      await standby.stop();
      await first.stop();
    }
  });
});
