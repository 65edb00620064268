import { EntityRegistry, type LogFields } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { counter, inc, RecordingLogger } from "./fixtures.js";

const ids = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

/** The ids the registry passivated, in order, from its debug lines. */
function passivated(logger: RecordingLogger, reason?: string): string[] {
  return logger.lines
    .filter((l) => l.message === "entity passivated")
    .map((l) => l.fields as LogFields)
    .filter((f) => reason === undefined || f.reason === reason)
    .map((f) => f.id as string);
}

afterEach(() => {
  vi.useRealTimers();
});

// The shape of Akka's LeastRecentlyUsedSpec: deterministic sequences against a limit of 10.
describe("EntityRegistry: least recently used passivation at the active limit", () => {
  it("ids 1..20 with a limit of 10 passivate 1..10, in order", async () => {
    const logger = new RecordingLogger();
    const registry = new EntityRegistry(counter, {
      evtLog: new InMemoryEvtLog(),
      logger,
      passivation: { maxActive: 10 },
    });
    for (const id of ids(1, 10)) await registry.send(id, inc(1));
    expect(passivated(logger)).toEqual([]);
    for (const id of ids(11, 20)) await registry.send(id, inc(1));
    expect(passivated(logger, "limit")).toEqual(ids(1, 10));
    expect(ids(1, 20).map((id) => registry.phase(id) ?? "-")).toEqual([
      ...Array<string>(10).fill("-"),
      ...Array<string>(10).fill("active"),
    ]);
    expect(registry.stats).toMatchObject({ active: 10, passivations: { idle: 0, limit: 10, explicit: 0 } });
    await registry.close();
  });

  it("a touched entity moves to the back of the line", async () => {
    const logger = new RecordingLogger();
    const registry = new EntityRegistry(counter, {
      evtLog: new InMemoryEvtLog(),
      logger,
      passivation: { maxActive: 10 },
    });
    for (const id of ids(1, 10)) await registry.send(id, inc(1));
    await registry.send("1", { type: "get" });
    await registry.send("5", inc(1));
    for (const id of ids(11, 15)) await registry.send(id, inc(1));
    expect(passivated(logger)).toEqual(["2", "3", "4", "6", "7"]);
    for (const id of ids(16, 18)) await registry.send(id, inc(1));
    expect(passivated(logger)).toEqual(["2", "3", "4", "6", "7", "8", "9", "10"]);
    await registry.send("19", inc(1));
    await registry.send("20", inc(1));
    expect(passivated(logger).slice(-2)).toEqual(["1", "5"]);
    await registry.close();
  });

  it("a burst of new ids never has more entities resident than the limit (those stopping count)", async () => {
    const registry = new EntityRegistry(counter, {
      evtLog: new InMemoryEvtLog(),
      passivation: { maxActive: 10 },
    });
    let most = 0;
    let waited = 0;
    const sample = (): void => {
      const { active, spawning, stopping, waiting } = registry.stats;
      most = Math.max(most, active + spawning + stopping);
      waited = Math.max(waited, waiting);
    };
    const watch = setInterval(sample, 0);
    const results = await Promise.all(
      ids(1, 500).map((id) =>
        registry.send(id, inc(1)).then((result) => {
          sample();
          return result;
        }),
      ),
    );
    clearInterval(watch);
    expect(waited).toBeGreaterThan(400);
    expect(results.every((r) => r.kind === "accepted")).toBe(true);
    expect(most).toBeLessThanOrEqual(10);
    expect(registry.stats).toMatchObject({ active: 10, passivations: { limit: 490 } });
    await registry.close();
  });

  it("a command for an entity being passivated at the limit is served by its next incarnation", async () => {
    const registry = new EntityRegistry(counter, {
      evtLog: new InMemoryEvtLog(),
      passivation: { maxActive: 1 },
    });
    await registry.send("a", inc(1));
    const toB = registry.send("b", inc(1));
    const toA = registry.send("a", inc(1));
    expect(registry.phase("a")).toBe("stopping");
    expect(await Promise.all([toB, toA])).toMatchObject([{ seqNo: 1 }, { reply: 2, seqNo: 2 }]);
    expect(registry.stats.recoveries).toBe(3);
    await registry.close();
  });
});

describe("EntityRegistry: idle passivation", () => {
  it("passivates an idle entity within [timeout, timeout + sweep interval] of its last command", async () => {
    vi.useFakeTimers();
    const timeout = 1_000;
    const sweep = 300;
    // Offsets put the sweep ticks at every phase of the timeout, its exact end (200) and just before it (210).
    for (const offset of [0, 1, 137, 200, 210, 250, 299, 300, 650]) {
      const registry = new EntityRegistry(counter, {
        evtLog: new InMemoryEvtLog(),
        passivation: { idleAfterMs: timeout, sweepIntervalMs: sweep },
      });
      await vi.advanceTimersByTimeAsync(offset);
      await registry.send("a", inc(1));
      const lastCommandAt = performance.now();
      let passivatedAt: number | undefined;
      while (passivatedAt === undefined) {
        await vi.advanceTimersByTimeAsync(1);
        if (registry.phase("a") !== "active") passivatedAt = performance.now();
      }
      const idleFor = passivatedAt - lastCommandAt;
      expect(idleFor, `offset ${offset}`).toBeGreaterThanOrEqual(timeout);
      expect(idleFor, `offset ${offset}`).toBeLessThanOrEqual(timeout + sweep);
      expect(registry.stats.passivations.idle).toBe(1);
      await registry.close();
    }
  });

  it("only commands through the registry count as activity", async () => {
    vi.useFakeTimers();
    const registry = new EntityRegistry(counter, {
      evtLog: new InMemoryEvtLog(),
      passivation: { idleAfterMs: 1_000 },
    });
    const ref = await registry.get("direct");
    await registry.send("sent", inc(1));
    for (let t = 0; t < 1_600; t += 100) {
      await vi.advanceTimersByTimeAsync(100);
      await registry.send("sent", inc(1));
      await ref.handleCmd(inc(1)).catch(() => undefined);
    }
    expect(registry.phase("sent")).toBe("active");
    expect(registry.phase("direct")).toBeUndefined();
    expect(ref.status).toBe("stopped");
    await registry.close();
  });

  it("idle and limit combine on one recency list", async () => {
    vi.useFakeTimers();
    const logger = new RecordingLogger();
    const registry = new EntityRegistry(counter, {
      evtLog: new InMemoryEvtLog(),
      logger,
      passivation: { idleAfterMs: 1_000, sweepIntervalMs: 100, maxActive: 3 },
    });
    for (const id of ["a", "b", "c"]) await registry.send(id, inc(1));
    await vi.advanceTimersByTimeAsync(600);
    await registry.send("a", inc(1));
    await registry.send("d", inc(1));
    await vi.advanceTimersByTimeAsync(600);
    expect(passivated(logger, "limit")).toEqual(["b"]);
    expect(passivated(logger, "idle")).toEqual(["c"]);
    await vi.advanceTimersByTimeAsync(600);
    expect(passivated(logger, "idle")).toEqual(["c", "a", "d"]);
    await registry.close();
  });
});
