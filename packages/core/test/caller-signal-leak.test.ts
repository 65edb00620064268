import { getEventListeners } from "node:events";
import { CommandTimeoutError, defineEntity, Entity, EntityRegistry, emitAndReply } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, inc } from "./fixtures.js";

/**
 * How many signals `signal` keeps track of as its dependants. `AbortSignal.any([signal, ...])` adds its
 * result to a set on every source signal; Node 20 never prunes that set (not even after the result was
 * collected), so a long-lived signal (a service's shutdown signal) passed with every command would grow by
 * one entry per command for the life of the process. Internal to Node: 0 when the set does not exist.
 */
function dependantsOf(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === "kDependantSignals");
  const set =
    key === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[key];
  return set?.size ?? 0;
}

/** What a long-lived signal holds on to: listeners and dependants. */
function traces(signal: AbortSignal): { listeners: number; dependants: number } {
  return { listeners: getEventListeners(signal, "abort").length, dependants: dependantsOf(signal) };
}

/** An entity whose async handleCmd waits until the test opens its gate (`gates.shift()!()`). */
function gatedEntity() {
  const gates: (() => void)[] = [];
  const gated = defineEntity<number, number, number, number>({
    typeName: "gated",
    initialState: () => 0,
    handleCmd: async (_state, n) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return emitAndReply<number, number, number>([n], (s) => s);
    },
    handleEvt: (s, n) => s + n,
  });
  return { gates, gated };
}

const NONE = { listeners: 0, dependants: 0 };

describe("a long-lived signal passed with every command, with timeoutMs", () => {
  it("keeps no trace of settled commands on an idle entity (the direct path)", async () => {
    const shutdown = new AbortController();
    const ref = await Entity.spawn("c", counter, { evtLog: new InMemoryEvtLog() });
    for (let i = 0; i < 200; i++) {
      await ref.handleCmd(inc(1), { signal: shutdown.signal, timeoutMs: 60_000 });
    }
    expect(traces(shutdown.signal)).toEqual(NONE);
    await ref.stop();
  });

  it("keeps no trace of settled commands that waited in the mailbox", async () => {
    const shutdown = new AbortController();
    const ref = await Entity.spawn("c", counter, { evtLog: new InMemoryEvtLog() });
    const inFlight = Array.from({ length: 200 }, () =>
      ref.handleCmd(inc(1), { signal: shutdown.signal, timeoutMs: 60_000 }),
    );
    // One listener however many commands wait (more than 10 would make Node warn of a possible leak).
    expect(traces(shutdown.signal)).toEqual({ listeners: 1, dependants: 0 });
    await Promise.all(inFlight);
    expect(ref.seqNo).toBe(200);
    expect(traces(shutdown.signal)).toEqual(NONE);
    await ref.stop();
  });

  it("keeps no trace of commands sent through a registry, to new and to resident ids", async () => {
    const shutdown = new AbortController();
    const registry = new EntityRegistry(counter, {
      evtLog: new InMemoryEvtLog(),
      passivation: { maxActive: 10 },
    });
    for (let i = 0; i < 200; i++) {
      await registry.send(`c-${i % 50}`, inc(1), { signal: shutdown.signal, timeoutMs: 60_000 });
    }
    expect(traces(shutdown.signal)).toEqual(NONE);
    await registry.close();
  });

  it("keeps no trace of queued commands that timed out, and still aborts the commands that wait", async () => {
    const { gates, gated } = gatedEntity();
    const shutdown = new AbortController();
    const ref = await Entity.spawn("g", gated, { evtLog: new InMemoryEvtLog() });
    const first = ref.handleCmd(1);
    const timedOut = await Promise.allSettled(
      Array.from({ length: 50 }, () => ref.handleCmd(1, { signal: shutdown.signal, timeoutMs: 1 })),
    );
    expect(timedOut.every((r) => r.status === "rejected" && r.reason instanceof CommandTimeoutError)).toBe(
      true,
    );
    expect(traces(shutdown.signal)).toEqual(NONE);

    const waiting = ref.handleCmd(1, { signal: shutdown.signal, timeoutMs: 60_000 });
    const reason = new Error("shutting down");
    shutdown.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    gates.shift()!();
    await first;
    await ref.stop();
    expect(ref.seqNo).toBe(1);
  });

  it("shares one listener among commands with only a signal: queued ones and async decisions", async () => {
    const { gates, gated } = gatedEntity();
    const shutdown = new AbortController();
    const evtLog = new InMemoryEvtLog();
    const refs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => Entity.spawn(`g-${i}`, gated, { evtLog })),
    );
    // 20 entities deciding, and 20 commands queued behind them, all with the same signal.
    const all = refs.flatMap((ref) => [
      ref.handleCmd(1, { signal: shutdown.signal }),
      ref.handleCmd(1, { signal: shutdown.signal }),
    ]);
    while (gates.length < 20) await new Promise((resolve) => setImmediate(resolve));
    expect(traces(shutdown.signal)).toEqual({ listeners: 1, dependants: 0 });
    while (gates.length > 0 || refs.some((ref) => ref.seqNo < 2)) {
      gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(all);
    expect(traces(shutdown.signal)).toEqual(NONE);
  });

  it("shares one listener among commands waiting in a registry for their entity to recover", async () => {
    const shutdown = new AbortController();
    const registry = new EntityRegistry(counter, { evtLog: new InMemoryEvtLog() });
    // The three entities are still recovering: the commands wait in the registry's slots.
    const served = Array.from({ length: 30 }, (_, i) =>
      registry.send(`c-${i % 3}`, inc(1), { signal: shutdown.signal }),
    );
    expect(traces(shutdown.signal)).toEqual({ listeners: 1, dependants: 0 });
    await Promise.all(served);
    expect(traces(shutdown.signal)).toEqual(NONE);

    await registry.passivate("c-0");
    const reason = new Error("shutting down");
    const given = Array.from({ length: 30 }, () => registry.send("c-0", inc(1), { signal: shutdown.signal }));
    expect(traces(shutdown.signal)).toEqual({ listeners: 1, dependants: 0 });
    shutdown.abort(reason);
    for (const outcome of await Promise.allSettled(given)) {
      expect(outcome).toEqual({ status: "rejected", reason });
    }
    expect(traces(shutdown.signal)).toEqual(NONE);
    await registry.close();
  });
});
