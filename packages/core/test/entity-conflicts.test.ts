import {
  ConcurrencyConflictError,
  defineEntity,
  Entity,
  emitAndReply,
  SeqNoConflictError,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, foldedLog, foreignIncreased, inc, logOf, RecordingLogger } from "./fixtures.js";

describe("Conflicts with another writer", () => {
  it("two EntityRefs for one id on one log (two processes): the loser re-runs on fresh state, nothing lost or duplicated", async () => {
    const evtLog = new InMemoryEvtLog();
    const a = await Entity.spawn("shared", counter, { evtLog });
    const b = await Entity.spawn("shared", counter, { evtLog });

    expect(await a.handleCmd(inc(1))).toMatchObject({ kind: "accepted", reply: 1, seqNo: 1 });
    // b still believes the counter is at 0 / seqNo 0: its persist conflicts, it catches up and re-runs.
    expect(await b.handleCmd(inc(10))).toMatchObject({ kind: "accepted", reply: 11, seqNo: 2 });
    expect(b.stats.conflictRetries).toBe(1);
    expect(await a.handleCmd(inc(100))).toMatchObject({ kind: "accepted", reply: 111, seqNo: 3 });

    expect(
      (await logOf(evtLog, "shared")).map(({ evt }) => (evt.type === "increased" ? evt.by : -evt.by)),
    ).toEqual([1, 10, 100]);
  });

  it("two EntityRefs hammering one id concurrently: every acknowledged command is in the log exactly once", async () => {
    const evtLog = new InMemoryEvtLog();
    const refs = [
      await Entity.spawn("hot", counter, { evtLog, maxConflictRetries: 1_000 }),
      await Entity.spawn("hot", counter, { evtLog, maxConflictRetries: 1_000 }),
    ];
    const bys = Array.from({ length: 200 }, (_, i) => i + 1);
    const results = await Promise.all(bys.map((by) => refs[by % 2]!.handleCmd(inc(by))));

    expect(results.every((r) => r.kind === "accepted")).toBe(true);
    const logged = (await logOf(evtLog, "hot")).map(({ evt }) => evt.by);
    expect([...logged].sort((x, y) => x - y)).toEqual(bys);
    expect(new Set(results.map((r) => r.seqNo)).size).toBe(200);
    expect(await foldedLog(evtLog, "hot")).toBe(bys.reduce((s, by) => s + by, 0));
  });

  it("the re-run sees the other writer's events, so a decision can change (here: to a rejection)", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await Entity.spawn("c1", counter, { evtLog });
    await ref.handleCmd(inc(999_990));
    evtLog.conflictNextPersist(foreignIncreased(10));
    expect(await ref.handleCmd(inc(5))).toEqual({ kind: "rejected", rejection: "overflow", seqNo: 2 });
    expect(await foldedLog(evtLog.inner, "c1")).toBe(1_000_000);
  });

  it("after maxConflictRetries re-runs the command fails with ConcurrencyConflictError", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await Entity.spawn("c1", counter, { evtLog, maxConflictRetries: 2 });
    for (let i = 0; i < 3; i++) evtLog.conflictNextPersist(foreignIncreased(1));

    const error = await ref.handleCmd(inc(5)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyConflictError);
    expect((error as ConcurrencyConflictError).attempts).toBe(3);
    expect((error as ConcurrencyConflictError).cause).toBeInstanceOf(SeqNoConflictError);
    expect(ref.stats.conflictRetries).toBe(2);
    // The entity lives on and the next command starts from the log's truth (3 foreign events).
    expect(await ref.handleCmd(inc(5))).toMatchObject({ kind: "accepted", reply: 8, seqNo: 4 });
  });

  it("maxConflictRetries 0 fails on the first conflict without re-running handleCmd", async () => {
    let runs = 0;
    const counted = defineEntity<number, "inc", "increased", number>({
      typeName: "counter",
      initialState: () => 0,
      handleCmd: () => {
        runs++;
        return emitAndReply<number, "increased", number>(["increased"], (s) => s);
      },
      handleEvt: (s) => s + 1,
    });
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await Entity.spawn("c1", counted, {
      evtLog,
      maxConflictRetries: 0,
      logger: new RecordingLogger(),
    });
    evtLog.conflictNextPersist({ bytes: new TextEncoder().encode('"increased"') });
    await expect(ref.handleCmd("inc")).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect(runs).toBe(1);
  });
});
