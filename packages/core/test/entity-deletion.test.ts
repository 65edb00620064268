import {
  defineEntity,
  deleteEntity,
  Entity,
  EventsDeletedError,
  emitAndReply,
  InvalidArgumentError,
  jsonFromBytes,
  type RetentionHorizon,
  reject,
  reply,
  SeqNoConflictError,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { settle } from "./fixtures.js";

// Entity deletion (e.g. for personal data): a tombstone event, then background deletion of the entity's
// snapshots and of every event before the tombstone. The head stays, so seqNos never start over.

type Person = { readonly name: string | undefined; readonly erased: boolean };
type PersonEvt = { readonly type: "named"; readonly name: string } | { readonly type: "erased" };

type PersonCmd =
  | { readonly type: "rename"; readonly name: string }
  | { readonly type: "erase" }
  | { readonly type: "get" };

const person = defineEntity<Person, PersonCmd, PersonEvt, Person | undefined, "erased">({
  typeName: "person",
  initialState: () => ({ name: undefined, erased: false }),
  handleCmd: (state, cmd) => {
    if (cmd.type === "get") return reply(state);
    if (state.erased) return reject("erased");
    const evt: PersonEvt = cmd.type === "rename" ? { type: "named", name: cmd.name } : { type: "erased" };
    return emitAndReply<Person, PersonEvt, undefined>([evt], () => undefined);
  },
  // A tombstone yields the same state whatever came before it: recovery may start at it.
  handleEvt: (_state, evt) =>
    evt.type === "erased" ? { name: undefined, erased: true } : { name: evt.name, erased: false },
});

const retention = { isTombstone: (evt: PersonEvt) => evt.type === "erased" };

async function texts(log: InMemoryEvtLog, id: string): Promise<{ seqNo: number; evt: PersonEvt }[]> {
  const out: { seqNo: number; evt: PersonEvt }[] = [];
  for await (const r of log.evtsById("person", id, { from: 1 })) {
    out.push({ seqNo: r.seqNo, evt: jsonFromBytes<PersonEvt>(r.bytes) });
  }
  return out;
}

describe("Entity deletion with a tombstone", () => {
  it("deletes the snapshots and every event before the tombstone in the background; the head stays", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore({ history: 2 });
    const ref = await Entity.spawn("p1", person, { evtLog, snapshotStore, snapshotAfter: 2, retention });
    for (const name of ["Ada", "Ada L.", "Ada Lovelace"]) {
      await ref.handleCmd({ type: "rename", name });
      await settle();
    }
    expect(await ref.handleCmd({ type: "erase" })).toMatchObject({ kind: "accepted", seqNo: 4 });
    await ref.stop();
    expect(await texts(evtLog, "p1")).toEqual([{ seqNo: 4, evt: { type: "erased" } }]);
    // No snapshot from before the tombstone survives (one taken after it holds no personal data).
    expect((await snapshotStore.loadAll("person", "p1")).every((s) => s.seqNo >= 4)).toBe(true);
    expect(await evtLog.lastSeqNo("person", "p1")).toBe(4);
    await expect(evtLog.persist("person", "p1", 0, [{ bytes: new Uint8Array() }])).rejects.toBeInstanceOf(
      SeqNoConflictError,
    );
  });

  it("recovers an erased entity from its tombstone, and it keeps its seqNos", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("p1", person, { evtLog, retention });
    await ref.handleCmd({ type: "rename", name: "Grace" });
    await ref.handleCmd({ type: "erase" });
    await ref.stop();
    const again = await Entity.spawn("p1", person, { evtLog, retention });
    expect(await again.handleCmd({ type: "get" })).toMatchObject({
      reply: { name: undefined, erased: true },
      seqNo: 2,
    });
    expect(await again.handleCmd({ type: "rename", name: "x" })).toMatchObject({ kind: "rejected" });
    // Without the tombstone rule the deleted prefix cannot be folded.
    await expect(Entity.spawn("p1", person, { evtLog })).rejects.toBeInstanceOf(EventsDeletedError);
  });

  it("never deletes past the horizon; the next recovery finishes the deletion", async () => {
    const evtLog = new InMemoryEvtLog();
    let checkpoint = 0;
    const horizon: RetentionHorizon = { lowestPosition: async () => checkpoint };
    const ref = await Entity.spawn("p1", person, { evtLog, retention: { ...retention, horizon } });
    await ref.handleCmd({ type: "rename", name: "Alan" });
    await ref.handleCmd({ type: "rename", name: "Alan T." });
    await ref.handleCmd({ type: "erase" });
    await ref.stop();
    expect((await texts(evtLog, "p1")).map((r) => r.seqNo)).toEqual([1, 2, 3]);
    checkpoint = Number.MAX_SAFE_INTEGER;
    const again = await Entity.spawn("p1", person, { evtLog, retention: { ...retention, horizon } });
    await again.stop();
    expect((await texts(evtLog, "p1")).map((r) => r.seqNo)).toEqual([3]);
  });

  it("deleteEntity deletes everything but the head, or with resetSeqNo the head too", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    const ref = await Entity.spawn("p1", person, { evtLog, snapshotStore, snapshotAfter: 1 });
    for (const name of ["a", "b", "c"]) await ref.handleCmd({ type: "rename", name });
    await ref.stop();
    expect(await deleteEntity("person", "p1", { evtLog, snapshotStore, batchSize: 2 })).toEqual({
      deletedTo: 3,
      removed: 3,
      complete: true,
      reset: false,
    });
    expect(await snapshotStore.load("person", "p1")).toBeUndefined();
    expect(await evtLog.lastSeqNo("person", "p1")).toBe(3);
    await expect(Entity.spawn("p1", person, { evtLog })).rejects.toBeInstanceOf(EventsDeletedError);
    expect(await deleteEntity("person", "p1", { evtLog, resetSeqNo: true })).toMatchObject({ reset: true });
    expect(await evtLog.lastSeqNo("person", "p1")).toBe(0);
    const fresh = await Entity.spawn("p1", person, { evtLog });
    expect(await fresh.handleCmd({ type: "rename", name: "new" })).toMatchObject({ seqNo: 1 });
  });

  it("refuses a log that cannot delete, a store that cannot delete all, and toSeqNo with resetSeqNo", async () => {
    const evtLog = new InMemoryEvtLog();
    const noDeleteAll = { save: async () => {}, load: async () => undefined };
    for (const call of [
      () => deleteEntity("person", "p", { evtLog: new FaultyEvtLog(evtLog) }),
      () => deleteEntity("person", "p", { evtLog, snapshotStore: noDeleteAll }),
      () => deleteEntity("person", "p", { evtLog, toSeqNo: 3, resetSeqNo: true }),
      () => Entity.spawn("p", person, { evtLog: new FaultyEvtLog(evtLog), retention }),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });
});
