import { EntityRegistry, ErrorCode, isEventSourcedError, RegistryClosedError } from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { until } from "./fixtures.js";
import { appended, appender } from "./registry-fixtures.js";

const IDS = Array.from({ length: 60 }, (_, i) => `e${i}`);
const PER_ID = 20;
const PARTS = 3;

describe("EntityRegistry: close()", () => {
  it("under load: queued commands finish or fail with RegistryClosedError, and nothing is half-written", async () => {
    // Latency keeps recoveries, persists and snapshot saves in flight; the limit keeps ids waiting and stopping.
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog(), { latencyMs: 1 });
    const registry = new EntityRegistry(appender, {
      evtLog,
      snapshotStore: new InMemorySnapshotStore(),
      snapshotOnPassivate: true,
      passivation: { maxActive: 20 },
    });
    const acked = new Map<string, { id: string; seqNo: number }>();
    const closedErrors: string[] = [];
    const otherErrors: unknown[] = [];
    const sends = IDS.flatMap((id) =>
      Array.from({ length: PER_ID }, async (_, n) => {
        const tag = `${id}/${n}`;
        try {
          const result = await registry.send(id, { tag, parts: PARTS });
          acked.set(tag, { id, seqNo: result.seqNo });
        } catch (error) {
          if (isEventSourcedError(error, ErrorCode.RegistryClosed)) closedErrors.push(tag);
          else otherErrors.push(error);
        }
      }),
    );
    await until(() => acked.size >= 100);
    const stats = registry.stats;
    await registry.close();
    await Promise.all(sends);

    expect(otherErrors).toEqual([]);
    expect(acked.size + closedErrors.length).toBe(IDS.length * PER_ID);
    // The close met work in every state: some commands still completed, others were refused.
    expect(closedErrors.length).toBeGreaterThan(0);
    expect(stats.active + stats.spawning + stats.stopping).toBeGreaterThan(0);
    expect(stats.waiting).toBeGreaterThan(0);
    for (const id of IDS) {
      const evts = await appended(evtLog.inner, id);
      expect(evts.map((e) => e.seqNo)).toEqual(evts.map((_, i) => i + 1));
      for (let i = 0; i < evts.length; i += PARTS) {
        const command = evts.slice(i, i + PARTS);
        // Each command whole (all its parts, adjacent), acknowledged at the seqNo of its last part.
        expect(command.map((e) => [e.tag, e.part])).toEqual(command.map((_, k) => [command[0]!.tag, k]));
        expect(acked.get(command[0]!.tag)).toEqual({ id, seqNo: command.at(-1)!.seqNo });
      }
      // Nothing refused was written, nothing acknowledged is missing.
      const stored = new Set(evts.map((e) => e.tag));
      for (const tag of closedErrors) expect(stored.has(tag), tag).toBe(false);
      expect(stored.size).toBe([...acked.values()].filter((a) => a.id === id).length);
    }
    expect(registry.stats).toMatchObject({ active: 0, spawning: 0, waiting: 0, stopping: 0 });
    await expect(registry.send("e0", { tag: "late" })).rejects.toBeInstanceOf(RegistryClosedError);
  });

  it("waits for an entity being passivated, and a command waiting for its next incarnation is refused", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog(), { latencyMs: 5 });
    const registry = new EntityRegistry(appender, { evtLog });
    await registry.send("a", { tag: "first" });
    const inFlight = registry.send("a", { tag: "in-flight" });
    const passivated = registry.passivate("a");
    const next = registry.send("a", { tag: "next" });
    await registry.close();
    await passivated;
    await expect(inFlight).resolves.toMatchObject({ seqNo: 2 });
    await expect(next).rejects.toBeInstanceOf(RegistryClosedError);
    expect((await appended(evtLog.inner, "a")).map((e) => e.tag)).toEqual(["first", "in-flight"]);
  });
});
