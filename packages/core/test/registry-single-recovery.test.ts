import { EntityRegistry, type EvtLog, type RegistryStats } from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { appended, appender } from "./registry-fixtures.js";

const CALLERS = 10_000;
const BATCH = 500;

/** A counting log whose reads wait until `open()`: the recovery stays in flight while callers keep arriving. */
class GatedEvtLog extends FaultyEvtLog {
  #open!: () => void;
  readonly #gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  constructor(inner: EvtLog) {
    super(inner);
  }
  open(): void {
    this.#open();
  }
  override async lastSeqNo(type: string, id: string): Promise<number> {
    await this.#gate;
    return super.lastSeqNo(type, id);
  }
}

/** Sends `CALLERS` commands to `id` in batches spread over turns of the event loop, then opens the gate. */
async function sendConcurrently(
  registry: { readonly stats: RegistryStats },
  evtLog: GatedEvtLog,
  send: (i: number) => Promise<{ seqNo: number }>,
): Promise<{ seqNo: number }[]> {
  const sends: Promise<{ seqNo: number }>[] = [];
  for (let i = 0; i < CALLERS; i++) {
    sends.push(send(i));
    if (i % BATCH === BATCH - 1) await new Promise((resolve) => setImmediate(resolve));
  }
  expect(registry.stats).toMatchObject({ spawning: 1, waiting: 0, active: 0 });
  evtLog.open();
  return Promise.all(sends);
}

describe("EntityRegistry: one incarnation per id", () => {
  it("10,000 concurrent sends to a new id recover it exactly once and are all handled once", async () => {
    const evtLog = new GatedEvtLog(new InMemoryEvtLog());
    const registry = new EntityRegistry(appender, { evtLog });
    const results = await sendConcurrently(registry, evtLog, (i) => registry.send("new", { tag: `c${i}` }));
    // One recovery: one lastSeqNo (the log has nothing, so nothing to read by id).
    expect(evtLog.counts).toMatchObject({ lastSeqNo: 1, evtsById: 0, persist: CALLERS });
    expect(registry.stats).toMatchObject({ recoveries: 1, misses: CALLERS, active: 1 });
    const seqNos = results.map((r) => r.seqNo).sort((a, b) => a - b);
    expect(seqNos).toEqual(Array.from({ length: CALLERS }, (_, i) => i + 1));
    // Served in arrival order.
    expect((await appended(evtLog.inner, "new")).map((e) => e.tag)).toEqual(
      Array.from({ length: CALLERS }, (_, i) => `c${i}`),
    );
    await registry.close();
  });

  it("10,000 concurrent sends to an id with history that is not resident replay its events exactly once", async () => {
    const inner = new InMemoryEvtLog();
    const writer = new EntityRegistry(appender, { evtLog: inner });
    for (let i = 0; i < 5; i++) await writer.send("old", { tag: `h${i}` });
    await writer.close();
    const evtLog = new GatedEvtLog(inner);
    const registry = new EntityRegistry(appender, { evtLog });
    const first = registry.get("old");
    await sendConcurrently(registry, evtLog, (i) => registry.send("old", { tag: `c${i}` }));
    expect(evtLog.counts).toMatchObject({ lastSeqNo: 1, evtsById: 1, evtsByIdRecords: 5 });
    expect(await registry.get("old")).toBe(await first);
    expect(await evtLog.inner.lastSeqNo("appender", "old")).toBe(5 + CALLERS);
    await registry.close();
  });
});
