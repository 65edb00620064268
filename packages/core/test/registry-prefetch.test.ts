import {
  DecodeError,
  EntityRegistry,
  type EvtLogBulkReads,
  type EvtRange,
  type IdEvtRecord,
  InvalidArgumentError,
  RegistryClosedError,
  silentLogger,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, foreignIncreased, inc } from "./fixtures.js";

/** An in-memory log with a bulk read, counting bulk and per-entity reads. */
class BulkLog extends InMemoryEvtLog implements EvtLogBulkReads {
  bulkReads = 0;
  byIdReads = 0;
  override evtsById(...args: Parameters<InMemoryEvtLog["evtsById"]>) {
    this.byIdReads++;
    return super.evtsById(...args);
  }
  async *evtsByIds(type: string, ranges: readonly EvtRange[]): AsyncIterable<IdEvtRecord> {
    this.bulkReads++;
    for (const { id, from, to } of ranges) {
      for await (const record of super.evtsById(type, id, { from, to })) yield { ...record, id };
    }
  }
}

async function logWith(counts: Record<string, number>): Promise<BulkLog> {
  const log = new BulkLog();
  for (const [id, n] of Object.entries(counts)) {
    for (let i = 0; i < n; i++) await log.persist("counter", id, i, [foreignIncreased(1)]);
  }
  return log;
}

describe("EntityRegistry.prefetch", () => {
  it("makes the entities active from one bulk read; their commands then need no further read", async () => {
    const evtLog = await logWith({ a: 3, b: 5, c: 0 });
    const registry = new EntityRegistry(counter, { evtLog, logger: silentLogger });
    try {
      await registry.prefetch(["a", "b", "c"]);
      expect(["a", "b", "c"].map((id) => registry.phase(id))).toEqual(["active", "active", "active"]);
      expect(evtLog.bulkReads).toBe(1);
      expect(evtLog.byIdReads).toBe(0);
      expect(await registry.send("b", inc(1))).toMatchObject({ kind: "accepted", reply: 6, seqNo: 6 });
      expect(registry.stats).toMatchObject({ active: 3, recoveries: 3 });
    } finally {
      await registry.close();
    }
  });

  it("catches up with events written between the bulk read and the spawn", async () => {
    const evtLog = await logWith({ a: 2 });
    const registry = new EntityRegistry(counter, { evtLog, logger: silentLogger });
    try {
      const bulkRead = evtLog.evtsByIds.bind(evtLog);
      evtLog.evtsByIds = async function* (type, ranges) {
        yield* bulkRead(type, ranges);
        await evtLog.persist("counter", "a", 2, [foreignIncreased(10)]);
      };
      await registry.prefetch(["a"]);
      expect(await registry.send("a", { type: "get" })).toMatchObject({ reply: 12, seqNo: 3 });
    } finally {
      await registry.close();
    }
  });

  it("leaves an entity that cannot be recovered to its next send, which reports why", async () => {
    const evtLog = await logWith({ a: 1 });
    await evtLog.persist("counter", "bad", 0, [{ bytes: new TextEncoder().encode("not json") }]);
    const registry = new EntityRegistry(counter, { evtLog, logger: silentLogger });
    try {
      await registry.prefetch(["a", "bad"]);
      expect(registry.phase("a")).toBe("active");
      expect(registry.phase("bad")).toBeUndefined();
      await expect(registry.send("bad", inc(1))).rejects.toBeInstanceOf(DecodeError);
    } finally {
      await registry.close();
    }
  });

  it("refuses a bad id with InvalidArgumentError and a closed registry with RegistryClosedError", async () => {
    const registry = new EntityRegistry(counter, { evtLog: new BulkLog(), logger: silentLogger });
    await expect(registry.prefetch(["a", ""])).rejects.toBeInstanceOf(InvalidArgumentError);
    await registry.close();
    await expect(registry.prefetch(["a"])).rejects.toBeInstanceOf(RegistryClosedError);
  });
});
