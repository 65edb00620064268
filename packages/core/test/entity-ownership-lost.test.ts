import { Entity, type EvtLog, OwnershipLostError } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, inc } from "./fixtures.js";

describe("Ownership lost", () => {
  it("a persist refused with OwnershipLostError reaches the caller as it is and is never re-run", async () => {
    const inner = new InMemoryEvtLog();
    let persists = 0;
    let fenced = false;
    const evtLog: EvtLog = {
      persist: (type, id, expected, evts) => {
        persists++;
        if (fenced) return Promise.reject(new OwnershipLostError(type, id, "shard lease lost"));
        return inner.persist(type, id, expected, evts);
      },
      lastSeqNo: (type, id) => inner.lastSeqNo(type, id),
      evtsById: (type, id, options) => inner.evtsById(type, id, options),
      evtsByType: (type, options) => inner.evtsByType(type, options),
    };
    const ref = await Entity.spawn("c", counter, { evtLog, maxConflictRetries: 5 });
    await ref.handleCmd(inc(1));
    fenced = true;
    const error = await ref.handleCmd(inc(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OwnershipLostError);
    expect(error).toMatchObject({ code: "OWNERSHIP_LOST", type: "counter", id: "c" });
    expect(persists).toBe(2);
    expect(ref.stats.conflictRetries).toBe(0);
    expect(await inner.lastSeqNo("counter", "c")).toBe(1);
    await ref.stop();
  });
});
