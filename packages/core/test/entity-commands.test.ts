import {
  defineEntity,
  Entity,
  emit,
  emitAndReply,
  InvalidArgumentError,
  jsonFromBytes,
  silentLogger,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { type CounterCmd, type CounterEvt, counter, dec, foldedLog, inc, logOf, settle } from "./fixtures.js";

describe("Entity commands", () => {
  it("an accepted command persists its event and replies from the state after it", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c1", counter, { evtLog });
    expect(await ref.handleCmd(inc(5))).toMatchObject({ kind: "accepted", reply: 5, seqNo: 1 });
    expect(await ref.handleCmd(dec(2))).toMatchObject({ kind: "accepted", reply: 3, seqNo: 2 });
    expect(ref.seqNo).toBe(2);
    expect(await logOf(evtLog, "c1")).toEqual([
      { seqNo: 1, evt: { type: "increased", by: 5 } },
      { seqNo: 2, evt: { type: "decreased", by: 2 } },
    ]);
  });

  it("a rejected command persists nothing and resolves with the rejection", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c1", counter, { evtLog });
    expect(await ref.handleCmd(dec(1))).toEqual({ kind: "rejected", rejection: "underflow", seqNo: 0 });
    expect(await evtLog.lastSeqNo("counter", "c1")).toBe(0);
    expect(ref.stats.commandsRejected).toBe(1);
  });

  it("a read-only command replies without persisting", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c1", counter, { evtLog });
    await ref.handleCmd(inc(7));
    expect(await ref.handleCmd({ type: "get" })).toMatchObject({ kind: "accepted", reply: 7, seqNo: 1 });
    expect(await evtLog.lastSeqNo("counter", "c1")).toBe(1);
  });

  it("a multi-event command is persisted atomically with contiguous seqNos", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c1", counter, { evtLog });
    await ref.handleCmd(inc(1));
    expect(await ref.handleCmd({ type: "incMany", bys: [10, 20, 30] })).toEqual({
      kind: "accepted",
      reply: 61,
      seqNo: 4,
      // The position of the last of the three events: what a projection waits for to read this write.
      position: 4,
    });
    const byType = [];
    for await (const record of evtLog.evtsByType("counter")) byType.push(record);
    expect(byType.map((r) => r.seqNo)).toEqual([1, 2, 3, 4]);
    // One persist call wrote the three: they share the recording time and have consecutive positions.
    expect(new Set(byType.slice(1).map((r) => r.recordedAt.getTime())).size).toBe(1);
    expect(byType.slice(1).map((r) => r.position)).toEqual([2, 3, 4]);
  });

  it("handleCmd throwing fails only that command and the entity lives on unchanged", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c1", counter, { evtLog });
    await ref.handleCmd(inc(3));
    await expect(ref.handleCmd({ type: "boom" })).rejects.toThrow("boom: handleCmd failed");
    expect(ref.status).toBe("running");
    expect(await ref.handleCmd(inc(1))).toMatchObject({ kind: "accepted", reply: 4, seqNo: 2 });
  });

  it("an async handleCmd rejecting fails only that command", async () => {
    const failing = defineEntity<number, "ok" | "fail", "e", number>({
      typeName: "asyncFail",
      initialState: () => 0,
      handleCmd: async (_state, cmd) => {
        await settle();
        if (cmd === "fail") throw new RangeError("async failure");
        return emitAndReply<number, "e", number>(["e"], (s) => s);
      },
      handleEvt: (state) => state + 1,
    });
    const ref = await Entity.spawn("a", failing, { evtLog: new InMemoryEvtLog() });
    const results = await Promise.allSettled([
      ref.handleCmd("ok"),
      ref.handleCmd("fail"),
      ref.handleCmd("ok"),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RangeError);
    expect(ref.seqNo).toBe(2);
  });

  it("stores the binarizer's content type and the command's metadata with every event", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c1", counter, { evtLog });
    const metadata = { correlationId: "corr-1", causationId: "cmd-1", headers: { user: "ada" } };
    await ref.handleCmd({ type: "incMany", bys: [1, 2] }, { metadata });
    const records = [];
    for await (const record of evtLog.evtsById("counter", "c1", { from: 1 })) records.push(record);
    expect(records.map((r) => r.contentType)).toEqual(["application/json", "application/json"]);
    expect(records.map((r) => r.metadata)).toEqual([metadata, metadata]);
    expect(records.map((r) => jsonFromBytes<CounterEvt>(r.bytes))).toEqual([
      { type: "increased", by: 1 },
      { type: "increased", by: 2 },
    ]);
  });

  it("1,000 concurrent commands on one entity are handled strictly in FIFO order without interleaving", async () => {
    // handleCmd yields to the event loop twice; without the mailbox, commands would interleave.
    const trace: string[] = [];
    const recorder = defineEntity<number[], number, number, number>({
      typeName: "fifo",
      initialState: () => [],
      handleCmd: async (_state, n, ctx) => {
        trace.push(`start ${n} at ${ctx.seqNo}`);
        await settle();
        await Promise.resolve();
        trace.push(`end ${n}`);
        return emitAndReply<number[], number, number>([n], (s) => s.length);
      },
      handleEvt: (state, n) => [...state, n],
    });
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("f", recorder, { evtLog });
    const ns = Array.from({ length: 1000 }, (_, i) => i);
    const results = await Promise.all(ns.map((n) => ref.handleCmd(n)));

    expect(results.map((r) => r.kind === "accepted" && r.reply)).toEqual(ns.map((n) => n + 1));
    expect(trace).toEqual(ns.flatMap((n) => [`start ${n} at ${n}`, `end ${n}`]));
    const logged = [];
    for await (const record of evtLog.evtsById("fifo", "f", { from: 1 }))
      logged.push(jsonFromBytes(record.bytes));
    expect(logged).toEqual(ns);
  });

  it("10,000 entities run concurrently, each with its own state and seqNos", async () => {
    const evtLog = new InMemoryEvtLog();
    const ids = Array.from({ length: 10_000 }, (_, i) => `e${i}`);
    const refs = await Promise.all(ids.map((id) => Entity.spawn(id, counter, { evtLog })));
    // Three commands per entity, all in flight at once.
    const results = await Promise.all(
      refs.flatMap((ref, i) => [ref.handleCmd(inc(i)), ref.handleCmd(inc(1)), ref.handleCmd(dec(1))]),
    );
    expect(results.every((r) => r.kind === "accepted")).toBe(true);
    expect(refs.every((ref) => ref.seqNo === 3)).toBe(true);
    const sample = [0, 1, 4_999, 9_999];
    for (const i of sample) {
      expect(await refs[i]!.handleCmd({ type: "get" })).toMatchObject({
        kind: "accepted",
        reply: i,
        seqNo: 3,
      });
      expect(await foldedLog(evtLog, `e${i}`)).toBe(i);
    }
    await Promise.all(refs.map((ref) => ref.stop()));
  });

  it("emit() without a reply resolves with an undefined reply", async () => {
    const quiet = defineEntity({
      typeName: "quiet",
      initialState: () => 0,
      handleCmd: (_s: number, _cmd: "tick") => emit("ticked"),
      handleEvt: (s) => s + 1,
    });
    const ref = await Entity.spawn("q", quiet, { evtLog: new InMemoryEvtLog() });
    expect(await ref.handleCmd("tick")).toEqual({
      kind: "accepted",
      reply: undefined,
      seqNo: 1,
      position: 1,
    });
  });

  it("handleCmd returning something that is not a decision fails only that command", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c1", counter, { evtLog });
    // A JavaScript caller (or a cast) can send a command the definition's switch does not cover.
    const unknownCmd = { type: "reset" } as unknown as CounterCmd;
    await expect(ref.handleCmd(unknownCmd)).rejects.toThrow("handleCmd returned undefined");
    expect(await ref.handleCmd(inc(1))).toMatchObject({ kind: "accepted", reply: 1, seqNo: 1 });
  });

  it("a hand-built emit of the wrong shape fails that command with InvalidArgumentError, persisting nothing", async () => {
    const decisions: unknown[] = [
      { kind: "emit", evts: "abc", reply: () => 1 },
      { kind: "emit" },
      { kind: "emit", evts: ["e"] },
    ];
    let next = 0;
    const handBuilt = defineEntity<number, "x", string, unknown>({
      typeName: "handBuilt",
      initialState: () => 0,
      handleCmd: () => decisions[next++] as never,
      handleEvt: (s) => s + 1,
    });
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("h", handBuilt, { evtLog, logger: silentLogger });
    for (let i = 0; i < decisions.length; i++) {
      await expect(ref.handleCmd("x")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect(await evtLog.lastSeqNo("handBuilt", "h")).toBe(0);
  });

  it("an emit with no events fails that command with InvalidArgumentError", async () => {
    const empty = defineEntity<number, "x", "e", number>({
      typeName: "empty",
      initialState: () => 0,
      handleCmd: () => ({ kind: "emit", evts: [], reply: (s) => s }),
      handleEvt: (s) => s,
    });
    const ref = await Entity.spawn("e", empty, { evtLog: new InMemoryEvtLog(), logger: silentLogger });
    await expect(ref.handleCmd("x")).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(ref.status).toBe("running");
    expect(ref.seqNo).toBe(0);
  });
});
