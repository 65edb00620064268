import { Entity } from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, inc, MAX } from "./fixtures.js";

// Two refs for one id on one log stand for two processes serving the same entity without a cluster.
describe("freshReads", () => {
  it("off (the default): a read-only reply comes from the resident state, even when another process wrote since", async () => {
    const evtLog = new InMemoryEvtLog();
    const here = await Entity.spawn("c", counter, { evtLog });
    const there = await Entity.spawn("c", counter, { evtLog });
    await there.handleCmd(inc(5));
    expect(await here.handleCmd({ type: "get" })).toMatchObject({ reply: 0, seqNo: 0 });
  });

  it("on: a reply or rejection first catches up with what another process wrote", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const here = await Entity.spawn("c", counter, { evtLog, freshReads: true });
    const there = await Entity.spawn("c", counter, { evtLog });
    await there.handleCmd(inc(5));
    expect(await here.handleCmd({ type: "get" })).toMatchObject({ reply: 5, seqNo: 1 });
    // A rejection decided on stale state would be wrong: here still thinks the value is 5.
    await there.handleCmd(inc(MAX - 5));
    await there.handleCmd({ type: "dec", by: MAX });
    expect(await here.handleCmd({ type: "dec", by: 1 })).toMatchObject({
      kind: "rejected",
      rejection: "underflow",
      seqNo: 3,
    });
    // When nothing changed, one lastSeqNo lookup and no replay.
    evtLog.resetCounts();
    expect(await here.handleCmd({ type: "get" })).toMatchObject({ reply: 0, seqNo: 3 });
    expect(evtLog.counts).toMatchObject({ lastSeqNo: 1, evtsById: 0 });
  });

  it("on: commands that emit need no extra lookup (the seqNo check of the persist covers them)", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await Entity.spawn("c", counter, { evtLog, freshReads: true });
    evtLog.resetCounts();
    await ref.handleCmd(inc(1));
    expect(evtLog.counts.lastSeqNo).toBe(0);
  });
});
