import { PersistError, ReadError, SeqNoConflictError } from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog } from "@eventsourced/core/testing";
import { describeEvtLogContract } from "@eventsourced/core/testing/vitest";
import { describe, expect, it } from "vitest";

const bytes = (text: string) => ({ bytes: new TextEncoder().encode(text) });

async function count(iterable: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of iterable) n++;
  return n;
}

// Without armed faults the wrapper must be indistinguishable from the log it wraps (it injects no faults
// into deletion, so it does not offer retention).
describeEvtLogContract(
  "FaultyEvtLog without faults",
  async () => ({ subject: new FaultyEvtLog(new InMemoryEvtLog()) }),
  { retention: false },
);

describe("FaultyEvtLog", () => {
  it("failNextPersist without the write throws PersistError (outcome known) and writes nothing", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    log.failNextPersist({ afterWrite: false });
    const error = await log.persist("t", "a", 0, [bytes("x")]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistError);
    expect((error as PersistError).outcomeUnknown).toBe(false);
    expect(await log.inner.lastSeqNo("t", "a")).toBe(0);
    expect((await log.persist("t", "a", 0, [bytes("x")])).seqNo).toBe(1);
  });

  it("failNextPersist after the write throws PersistError (outcome unknown) with the events written", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    log.failNextPersist({ afterWrite: true });
    const error = await log.persist("t", "a", 0, [bytes("x"), bytes("y")]).catch((e: unknown) => e);
    expect((error as PersistError).outcomeUnknown).toBe(true);
    expect(await log.inner.lastSeqNo("t", "a")).toBe(2);
  });

  it("conflictNextPersist appends the foreign event first, so the persist meets a real conflict", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    log.conflictNextPersist(bytes("foreign"));
    await expect(log.persist("t", "a", 0, [bytes("mine")])).rejects.toBeInstanceOf(SeqNoConflictError);
    const records = [];
    for await (const r of log.evtsById("t", "a", { from: 1 }))
      records.push(new TextDecoder().decode(r.bytes));
    expect(records).toEqual(["foreign"]);
  });

  it("failReads and failPersists fail the next n calls, then the log works again", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog());
    log.failReads(2);
    await expect(log.lastSeqNo("t", "a")).rejects.toBeInstanceOf(ReadError);
    await expect(count(log.evtsById("t", "a", { from: 1 }))).rejects.toBeInstanceOf(ReadError);
    expect(await log.lastSeqNo("t", "a")).toBe(0);
    log.failPersists(1);
    await expect(log.persist("t", "a", 0, [bytes("x")])).rejects.toBeInstanceOf(PersistError);
    expect((await log.persist("t", "a", 0, [bytes("x")])).seqNo).toBe(1);
  });

  it("counts calls and the records read, and resets them", async () => {
    const log = new FaultyEvtLog(new InMemoryEvtLog(), { latencyMs: 1 });
    await log.persist("t", "a", 0, [bytes("1"), bytes("2"), bytes("3")]);
    expect(await count(log.evtsById("t", "a", { from: 2 }))).toBe(2);
    expect(await count(log.evtsByType("t"))).toBe(3);
    expect(log.counts).toEqual({
      persist: 1,
      lastSeqNo: 0,
      evtsById: 1,
      evtsByIdRecords: 2,
      evtsByType: 1,
      evtsByTypeRecords: 3,
    });
    log.resetCounts();
    expect(log.counts.evtsByIdRecords).toBe(0);
  });
});
