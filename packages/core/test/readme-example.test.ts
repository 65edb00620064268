// Runs the examples of packages/core/README.md (their code lives in ./readme/, from where
// test/readme-code-blocks.test.ts checks the README shows it verbatim) and checks the types the README
// claims for them.
import { type CmdResult, Entity, jsonToBytes } from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, expectTypeOf, it } from "vitest";
import { account, accountWithOneHandler } from "./readme/account.js";
import { depositOnce } from "./readme/idempotent.js";
import { fromPino } from "./readme/logger.js";
import { forgetAll } from "./readme/pacing.js";
import { forget, spawnWithRetention } from "./readme/retention.js";
import { openAccount } from "./readme/spawn.js";

describe("the core README's examples", () => {
  it("per-command form: each command resolves to the reply and rejection types the README names", async () => {
    const ref = await Entity.spawn("acc-types", account, { evtLog: new InMemoryEvtLog() });
    const deposited = await ref.handleCmd({ type: "deposit", amount: 50 });
    expectTypeOf(deposited).toEqualTypeOf<CmdResult<void, "non-positive-amount">>();
    const withdrawn = await ref.handleCmd({ type: "withdraw", amount: 20 });
    expectTypeOf(withdrawn).toEqualTypeOf<
      CmdResult<number, { readonly reason: "insufficient-funds"; readonly balance: number }>
    >();
    const balance = await ref.handleCmd({ type: "balance" });
    expectTypeOf(balance).toEqualTypeOf<CmdResult<number, never>>();
    expect([deposited.kind, withdrawn, balance]).toMatchObject([
      "accepted",
      { kind: "accepted", reply: 30, seqNo: 2 },
      { kind: "accepted", reply: 30, seqNo: 2, position: undefined },
    ]);
    await ref.stop();
  });

  it("single-handler form: every command shares one reply type and one rejection type", async () => {
    const ref = await Entity.spawn("acc-one", accountWithOneHandler, { evtLog: new InMemoryEvtLog() });
    const result = await ref.handleCmd({ type: "withdraw", amount: 5 });
    expectTypeOf(result).toEqualTypeOf<CmdResult<number, "non-positive-amount" | "insufficient-funds">>();
    expect(result).toMatchObject({ kind: "rejected", rejection: "insufficient-funds", seqNo: 0 });
    expect(await ref.handleCmd({ type: "deposit", amount: 7 })).toMatchObject({ reply: 7, seqNo: 1 });
    await ref.stop();
  });

  it("spawning and handling results: accepted with a position, then rejected", async () => {
    const lines: string[] = [];
    await openAccount((line) => lines.push(line));
    expect(lines).toEqual(["deposited: seqNo 1, position 1", "rejected: insufficient-funds, balance 50"]);
  });

  it("the pino adapter passes the fields first, then the message", () => {
    const calls: unknown[][] = [];
    const record =
      (level: string) =>
      (...args: unknown[]) =>
        calls.push([level, ...args]);
    const logger = fromPino({ debug: record("debug"), warn: record("warn"), error: record("error") });
    logger.warn("snapshot save failed", { id: "a" });
    logger.error("entity failed");
    expect(calls).toEqual([
      ["warn", { id: "a" }, "snapshot save failed"],
      ["error", {}, "entity failed"],
    ]);
  });

  it("idempotent commands: a retry after an outcome-unknown failure reports the first attempt as a duplicate", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await Entity.spawn("acc-idem", account, { evtLog, retryBackoff: { initialMs: 1 } });
    expect(await depositOnce(ref, "o-1", 10)).toBe("deposited");
    evtLog.failNextPersist({ afterWrite: true });
    expect(await depositOnce(ref, "o-2", 5)).toBe("already deposited");
    expect(await depositOnce(ref, "o-1", 10)).toBe("already deposited");
    expect(await ref.handleCmd({ type: "balance" })).toMatchObject({ reply: 15, seqNo: 2 });
    await ref.stop();
  });

  it("upcasting and retention: old events read as new ones, old events deleted behind two snapshots", async () => {
    const evtLog = new InMemoryEvtLog();
    // Written by version 1: { type, amt } as plain "application/json".
    await evtLog.persist("account", "acc-1", 0, [
      { bytes: jsonToBytes({ type: "deposited", amt: 100 }), contentType: "application/json" },
    ]);
    const snapshotStore = new InMemorySnapshotStore({ history: 2 });
    const horizon = { lowestPosition: async () => undefined };
    const ref = await spawnWithRetention("acc-1", evtLog, snapshotStore, horizon);
    for (let i = 0; i < 250; i++) {
      await ref.handleCmd({ type: "deposit", amount: 1 });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await ref.stop();
    expect(await evtLog.deletedTo("account", "acc-1")).toBe(100);
    const again = await spawnWithRetention("acc-1", evtLog, snapshotStore, horizon);
    expect(await again.handleCmd({ type: "balance" })).toMatchObject({ reply: 350, seqNo: 251 });
    await again.stop();
    expect(await forget("acc-1", evtLog, snapshotStore)).toMatchObject({ deletedTo: 251, complete: true });
    expect(await evtLog.lastSeqNo("account", "acc-1")).toBe(251);
    // Pacing deletion: a sweep over several entities under one budget.
    for (const id of ["acc-2", "acc-3"]) {
      await evtLog.persist("account", id, 0, [{ bytes: jsonToBytes({ type: "deposited", amount: 1 }) }]);
    }
    await forgetAll(["acc-2", "acc-3"], evtLog, snapshotStore);
    expect(await evtLog.deletedTo("account", "acc-2")).toBe(1);
    expect(await evtLog.deletedTo("account", "acc-3")).toBe(1);
  });
});
