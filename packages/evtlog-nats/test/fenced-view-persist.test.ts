import type { NewEvt, Persisted } from "@eventsourced/core";
import { type FenceableNatsLog, FencedNatsEvtLog, type NatsFence } from "@eventsourced/evtlog-nats";
import { describe, expect, it } from "vitest";

/** A log that records the calls made to it; `fence` resolves or rejects when the test says. */
function recordingLog() {
  const calls: string[] = [];
  const markers: { resolve: (n: number) => void; reject: (err: Error) => void }[] = [];
  const log = {
    fence: (_type: string, id: string) => {
      calls.push(`fence ${id}`);
      return new Promise<number>((resolve, reject) => markers.push({ resolve, reject }));
    },
    persist: (
      _type: string,
      id: string,
      _expected: number,
      _evts: readonly NewEvt[],
      options?: { fence?: NatsFence },
    ): Promise<Persisted> => {
      calls.push(`persist ${id} epoch ${options?.fence?.epoch}`);
      return Promise.resolve({ seqNo: 1, position: 1 });
    },
  } as unknown as FenceableNatsLog;
  return { log, calls, markers };
}

const evts: NewEvt[] = [{ bytes: new Uint8Array([1]) }];

describe("FencedNatsEvtLog.persist", () => {
  it("waits for the entity's marker, then hands each persist to the log under the fence at once", async () => {
    const { log, calls, markers } = recordingLog();
    const view = new FencedNatsEvtLog(log, { epoch: 3, owner: "node-a" });
    const first = view.persist("order", "o-1", 0, evts);
    // The marker is not written yet: nothing may be persisted before it.
    await Promise.resolve();
    expect(calls).toEqual(["fence o-1"]);
    markers[0]!.resolve(0);
    await first;
    expect(calls).toEqual(["fence o-1", "persist o-1 epoch 3"]);
    // Marked: the next persist reaches the log in the same tick, without awaiting anything of the view's.
    const second = view.persist("order", "o-1", 1, evts);
    expect(calls).toEqual(["fence o-1", "persist o-1 epoch 3", "persist o-1 epoch 3"]);
    await second;
  });

  it("writes the marker again on the next persist when it failed, and persists nothing before it", async () => {
    const { log, calls, markers } = recordingLog();
    const view = new FencedNatsEvtLog(log, { epoch: 3 });
    const first = view.persist("order", "o-1", 0, evts);
    markers[0]!.reject(new Error("no responders"));
    await expect(first).rejects.toThrow("no responders");
    const second = view.persist("order", "o-1", 0, evts);
    expect(calls).toEqual(["fence o-1", "fence o-1"]);
    markers[1]!.resolve(0);
    await second;
    expect(calls).toEqual(["fence o-1", "fence o-1", "persist o-1 epoch 3"]);
  });

  it("keeps entities of different types apart", async () => {
    const { log, calls, markers } = recordingLog();
    const view = new FencedNatsEvtLog(log, { epoch: 3 });
    const a = view.persist("order", "x", 0, evts);
    const b = view.persist("invoice", "x", 0, evts);
    expect(calls).toEqual(["fence x", "fence x"]);
    for (const marker of markers) marker.resolve(0);
    await Promise.all([a, b]);
  });
});
