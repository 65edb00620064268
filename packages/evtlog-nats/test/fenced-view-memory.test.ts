import { type FenceableNatsLog, FencedNatsEvtLog } from "@eventsourced/evtlog-nats";
import { describe, expect, it } from "vitest";

/** A log that only counts the markers asked of it. */
function countingLog(): { log: FenceableNatsLog; fences: Map<string, number> } {
  const fences = new Map<string, number>();
  const log = {
    fence: (_type: string, id: string) => {
      fences.set(id, (fences.get(id) ?? 0) + 1);
      return Promise.resolve(0);
    },
    lastSeqNo: () => Promise.resolve(0),
  } as unknown as FenceableNatsLog;
  return { log, fences };
}

// A shard's fenced view lives as long as its tenure (a cluster node may own a shard for days); its ids churn.
describe("FencedNatsEvtLog memory", () => {
  it("remembers the last 100,000 entities it fenced, not every one: an older one is fenced again", async () => {
    const { log, fences } = countingLog();
    const view = new FencedNatsEvtLog(log, { epoch: 1, owner: "node-a" });
    await view.lastSeqNo("order", "first");
    await view.lastSeqNo("order", "first");
    expect(fences.get("first")).toBe(1);
    // Each id touched once (recovered, then passivated for good), as a registry behind the view does.
    for (let i = 0; i < 100_000; i++) await view.lastSeqNo("order", `o-${i}`);
    await view.lastSeqNo("order", "first");
    expect(fences.get("first")).toBe(2);
    // The most recent ones are still remembered.
    await view.lastSeqNo("order", "o-99999");
    expect(fences.get("o-99999")).toBe(1);
  });
});

describe("FencedNatsEvtLog memory after failed markers", () => {
  it("a marker that fails (a type the log refuses, say) leaves nothing behind and does not loosen the bound", async () => {
    const fences = new Map<string, number>();
    const log = {
      fence: (type: string, id: string) => {
        fences.set(id, (fences.get(id) ?? 0) + 1);
        // What the log answers a type it refuses: every type but "order" here.
        return type === "order" ? Promise.resolve(0) : Promise.reject(new Error(`invalid type ${type}`));
      },
      lastSeqNo: () => Promise.resolve(0),
    } as unknown as FenceableNatsLog;
    const view = new FencedNatsEvtLog(log, { epoch: 1, owner: "node-a" });
    // A hostile caller: 1,000 distinct refused types, each rejected with the log's error.
    for (let i = 0; i < 1_000; i++) {
      await expect(view.lastSeqNo(`bad ${i}`, "x")).rejects.toThrow(`invalid type bad ${i}`);
    }
    // Then 101,000 entities: the first 1,000 of them must have been forgotten (100,000 remembered).
    for (let i = 0; i < 101_000; i++) await view.lastSeqNo("order", `o-${i}`);
    await view.lastSeqNo("order", "o-1000");
    expect(fences.get("o-1000")).toBe(1);
    await view.lastSeqNo("order", "o-999");
    expect(fences.get("o-999")).toBe(2);
  });
});
