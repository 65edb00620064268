import {
  type CmdResult,
  type DuplicateResult,
  Entity,
  IDEMPOTENCY_KEY_HEADER,
  PersistError,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type CounterRejection, counter, foldedLog, inc, logOf } from "./fixtures.js";

describe("Idempotent commands", () => {
  it("a command whose key was already applied is not run again; the caller learns where the first attempt ended up", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c", counter, { evtLog });
    const first = await ref.handleCmd(inc(5), { idempotencyKey: "order-1" });
    expect(first).toMatchObject({ kind: "accepted", reply: 5, seqNo: 1, position: 1 });
    await ref.handleCmd(inc(1));
    const again = await ref.handleCmd(inc(5), { idempotencyKey: "order-1" });
    expect(again).toEqual({ kind: "duplicate", seqNo: 1, position: 1 });
    expect(await foldedLog(evtLog, "c")).toBe(6);
    // The key is stored with the command's (last) event.
    const [stored] = await logOf(evtLog, "c");
    expect(stored?.seqNo).toBe(1);
    const records = [];
    for await (const r of evtLog.evtsById("counter", "c", { from: 1, to: 1 })) records.push(r);
    expect(records[0]?.metadata?.headers?.[IDEMPOTENCY_KEY_HEADER]).toBe("order-1");
  });

  it("makes an outcome-unknown persist safe to retry: the events exist exactly once and the retry reports a duplicate", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await Entity.spawn("c", counter, { evtLog, retryBackoff: { initialMs: 1, maxMs: 2 } });
    evtLog.failNextPersist({ afterWrite: true });
    const error = await ref.handleCmd(inc(7), { idempotencyKey: "k" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistError);
    expect((error as PersistError).outcomeUnknown).toBe(true);
    // The caller retries with the same key: the entity re-reads the log first and finds it applied.
    expect(await ref.handleCmd(inc(7), { idempotencyKey: "k" })).toEqual({
      kind: "duplicate",
      seqNo: 1,
      position: 1,
    });
    expect(await foldedLog(evtLog.inner, "c")).toBe(7);
  });

  it("when the failed persist wrote nothing, the retry with the same key runs the command", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await Entity.spawn("c", counter, { evtLog, retryBackoff: { initialMs: 1, maxMs: 2 } });
    evtLog.failNextPersist({ afterWrite: false });
    await expect(ref.handleCmd(inc(7), { idempotencyKey: "k" })).rejects.toBeInstanceOf(PersistError);
    expect(await ref.handleCmd(inc(7), { idempotencyKey: "k" })).toMatchObject({
      kind: "accepted",
      seqNo: 1,
    });
    expect(await foldedLog(evtLog.inner, "c")).toBe(7);
  });

  it("two processes sending the same key to the same entity: applied once", async () => {
    const evtLog = new InMemoryEvtLog();
    const a = await Entity.spawn("c", counter, { evtLog });
    const b = await Entity.spawn("c", counter, { evtLog });
    expect(await a.handleCmd(inc(3), { idempotencyKey: "same" })).toMatchObject({ kind: "accepted" });
    // b has not seen a's write: its persist conflicts, it catches up, learns the key and does not re-run.
    expect(await b.handleCmd(inc(3), { idempotencyKey: "same" })).toMatchObject({
      kind: "duplicate",
      seqNo: 1,
    });
    expect(await foldedLog(evtLog, "c")).toBe(3);
  });

  it("recovery rebuilds the window from the events it replays", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c", counter, { evtLog });
    await ref.handleCmd(inc(1), { idempotencyKey: "k1" });
    await ref.handleCmd(inc(2), { idempotencyKey: "k2" });
    await ref.stop();
    const again = await Entity.spawn("c", counter, { evtLog });
    expect(await again.handleCmd(inc(1), { idempotencyKey: "k1" })).toMatchObject({
      kind: "duplicate",
      seqNo: 1,
    });
    expect(await again.handleCmd(inc(2), { idempotencyKey: "k2" })).toMatchObject({
      kind: "duplicate",
      seqNo: 2,
    });
  });

  it("with an explicit window, recovery also reads back the keys a snapshot covers; without one, it does not", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const snapshotStore = new InMemorySnapshotStore();
    const ref = await Entity.spawn("c", counter, { evtLog, snapshotStore, snapshotAfter: 2 });
    await ref.handleCmd(inc(1), { idempotencyKey: "k1" });
    await ref.handleCmd(inc(2), { idempotencyKey: "k2" });
    await ref.handleCmd(inc(4), { idempotencyKey: "k3" });
    await ref.stop(); // waits for the snapshot at seqNo 2

    const windowed = await Entity.spawn("c", counter, {
      evtLog,
      snapshotStore,
      idempotency: { maxKeys: 10 },
    });
    expect(await windowed.handleCmd(inc(1), { idempotencyKey: "k1" })).toMatchObject({ kind: "duplicate" });
    await windowed.stop();

    const tailOnly = await Entity.spawn("c", counter, { evtLog, snapshotStore });
    expect(await tailOnly.handleCmd(inc(4), { idempotencyKey: "k3" })).toMatchObject({ kind: "duplicate" });
    // k1 is covered by the snapshot and was not read back: beyond the window, the command runs again.
    expect(await tailOnly.handleCmd(inc(1), { idempotencyKey: "k1" })).toMatchObject({
      kind: "accepted",
      seqNo: 4,
    });
  });

  it("beyond the window (by count or by age) a key is forgotten and its command runs again", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c", counter, { evtLog, idempotency: { maxKeys: 2 } });
    await ref.handleCmd(inc(1), { idempotencyKey: "a" });
    await ref.handleCmd(inc(1), { idempotencyKey: "b" });
    await ref.handleCmd(inc(1), { idempotencyKey: "c" });
    expect(await ref.handleCmd(inc(1), { idempotencyKey: "c" })).toMatchObject({ kind: "duplicate" });
    expect(await ref.handleCmd(inc(1), { idempotencyKey: "a" })).toMatchObject({
      kind: "accepted",
      seqNo: 4,
    });

    const aged = await Entity.spawn("d", counter, { evtLog, idempotency: { maxAgeMs: 1 } });
    await aged.handleCmd(inc(1), { idempotencyKey: "x" });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await aged.handleCmd(inc(1), { idempotencyKey: "x" })).toMatchObject({
      kind: "accepted",
      seqNo: 2,
    });
  });

  it("rejected and read-only commands store no key: a retry is decided again", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c", counter, { evtLog });
    expect(await ref.handleCmd({ type: "dec", by: 1 }, { idempotencyKey: "d" })).toMatchObject({
      kind: "rejected",
    });
    await ref.handleCmd(inc(5));
    expect(await ref.handleCmd({ type: "dec", by: 1 }, { idempotencyKey: "d" })).toMatchObject({
      kind: "accepted",
    });
  });

  it("refuses a key that is empty, too long or not a string", async () => {
    const ref = await Entity.spawn("c", counter, { evtLog: new InMemoryEvtLog() });
    for (const idempotencyKey of ["", "x".repeat(257), 42 as unknown as string]) {
      await expect(ref.handleCmd(inc(1), { idempotencyKey })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
    }
    expect(ref.seqNo).toBe(0);
  });

  it("drops a key header a caller put in metadata: a forged key cannot make a later command a duplicate", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c", counter, { evtLog });
    // Forged, or forwarded from a stored event's metadata: the command runs, its event carries no key.
    const forged = { metadata: { headers: { [IDEMPOTENCY_KEY_HEADER]: "pay-42", tenant: "t1" } } };
    expect(await ref.handleCmd(inc(1), forged)).toMatchObject({ kind: "accepted", seqNo: 1 });
    const records = [];
    for await (const record of evtLog.evtsById("counter", "c", { from: 1 })) records.push(record);
    expect(records[0]?.metadata?.headers).toEqual({ tenant: "t1" });
    await ref.stop();
    // After a restart the real command with that key is applied, not taken for a duplicate.
    const again = await Entity.spawn("c", counter, { evtLog });
    expect(await again.handleCmd(inc(2), { idempotencyKey: "pay-42" })).toMatchObject({ kind: "accepted" });
    expect(await foldedLog(evtLog, "c")).toBe(3);
  });

  it("refuses metadata a log could not store alike (non-string members, unknown members, NUL), persisting nothing", async () => {
    const ref = await Entity.spawn("c", counter, { evtLog: new InMemoryEvtLog() });
    for (const metadata of [
      { correlationId: "a\u0000b" },
      { causationId: { nested: true } },
      { headers: 5 },
      { headers: { traceparent: 1 } },
      { tenant: "t1" },
    ]) {
      await expect(
        ref.handleCmd(inc(1), { metadata: metadata as Record<string, unknown> }),
      ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect(ref.seqNo).toBe(0);
    expect(await ref.handleCmd(inc(1), { metadata: { correlationId: "ok" } })).toMatchObject({ seqNo: 1 });
  });

  it("only a command with a key can resolve to a duplicate (types)", async () => {
    const ref = await Entity.spawn("c", counter, { evtLog: new InMemoryEvtLog() });
    expectTypeOf(await ref.handleCmd(inc(1))).toEqualTypeOf<CmdResult<number, CounterRejection>>();
    expectTypeOf(await ref.handleCmd(inc(1), { idempotencyKey: "t" })).toEqualTypeOf<
      CmdResult<number, CounterRejection> | DuplicateResult
    >();
  });
});
