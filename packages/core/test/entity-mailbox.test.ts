import {
  CommandTimeoutError,
  defineEntity,
  Entity,
  EntityStoppedError,
  emitAndReply,
  silentLogger,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, inc, logOf, RecordingLogger, settle, until } from "./fixtures.js";

/** A counter whose handleCmd waits until the test releases it, so commands pile up in the mailbox. */
function gatedCounter() {
  const gates: (() => void)[] = [];
  const started: number[] = [];
  const definition = defineEntity<number, number, number, number>({
    typeName: "gated",
    initialState: () => 0,
    handleCmd: async (_state, n) => {
      started.push(n);
      await new Promise<void>((resolve) => gates.push(resolve));
      return emitAndReply<number, number, number>([n], (s) => s);
    },
    handleEvt: (s, n) => s + n,
  });
  const release = async () => {
    await until(() => gates.length > 0);
    gates.shift()!();
  };
  return { definition, started, release };
}

describe("Mailbox", () => {
  it("with mailboxSize 1 a third caller waits for room, and aborting it removes it without effect on the others", async () => {
    const { definition, started, release } = gatedCounter();
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("g", definition, { evtLog, mailboxSize: 1 });

    const first = ref.handleCmd(1);
    const second = ref.handleCmd(10);
    const controller = new AbortController();
    const third = ref.handleCmd(100, { signal: controller.signal });
    await until(() => started.length === 1);
    expect(ref.stats).toMatchObject({ mailboxQueued: 1, mailboxWaiting: 1 });

    controller.abort(new Error("caller gave up"));
    await expect(third).rejects.toThrow("caller gave up");
    expect(ref.stats).toMatchObject({ mailboxQueued: 1, mailboxWaiting: 0 });

    await release();
    await release();
    expect(await first).toMatchObject({ kind: "accepted", reply: 1, seqNo: 1 });
    expect(await second).toMatchObject({ kind: "accepted", reply: 11, seqNo: 2 });
    expect(started).toEqual([1, 10]);
    expect((await logOf(evtLog, "g", "gated")).map((r) => r.seqNo)).toEqual([1, 2]);
  });

  it("callers waiting for room get in in arrival order", async () => {
    const { definition, started, release } = gatedCounter();
    const ref = await Entity.spawn("g", definition, { evtLog: new InMemoryEvtLog(), mailboxSize: 2 });
    const all = [1, 2, 3, 4, 5, 6].map((n) => ref.handleCmd(n));
    await until(() => started.length === 1);
    expect(ref.stats).toMatchObject({ mailboxQueued: 2, mailboxWaiting: 3 });
    for (let i = 0; i < 6; i++) await release();
    const results = await Promise.all(all);
    expect(started).toEqual([1, 2, 3, 4, 5, 6]);
    expect(results.map((r) => r.seqNo)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("a queued command whose timeoutMs elapses is removed without effect", async () => {
    const { definition, started, release } = gatedCounter();
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("g", definition, { evtLog });
    const first = ref.handleCmd(1);
    const timedOut = ref.handleCmd(2, { timeoutMs: 1 });
    await expect(timedOut).rejects.toMatchObject({
      name: "CommandTimeoutError",
      code: "COMMAND_TIMEOUT",
      type: "gated",
      id: "g",
      timeoutMs: 1,
    });
    await expect(timedOut).rejects.toBeInstanceOf(CommandTimeoutError);
    await release();
    await first;
    expect(started).toEqual([1]);
    expect(ref.seqNo).toBe(1);
  });

  it("a signal that is already aborted rejects at once and queues nothing", async () => {
    const ref = await Entity.spawn("c1", counter, { evtLog: new InMemoryEvtLog() });
    await expect(ref.handleCmd(inc(1), { signal: AbortSignal.abort(new Error("no")) })).rejects.toThrow("no");
    expect(ref.seqNo).toBe(0);
  });

  it("timeoutMs reaches the handler's ctx.signal on an idle entity, and abandons the undecided command", async () => {
    const seen: unknown[] = [];
    const logger = new RecordingLogger();
    const patient = defineEntity<number, number, number, number>({
      typeName: "patient",
      initialState: () => 0,
      handleCmd: async (_state, n, ctx) => {
        // Waits until the caller gives up (or 5 s, a liveness bound), then says what it saw.
        await new Promise<void>((resolve) => {
          const bound = setTimeout(resolve, 5_000);
          ctx.signal?.addEventListener("abort", () => {
            clearTimeout(bound);
            resolve();
          });
        });
        seen.push(ctx.signal?.reason);
        return emitAndReply<number, number, number>([n], (s) => s);
      },
      handleEvt: (s, n) => s + n,
    });
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("p", patient, { evtLog, logger });
    // Idle: the command is handled at once, and the timeout still aborts its signal. The handler had not
    // decided when its caller gave up: the command is abandoned, its late decision dropped.
    const first = ref.handleCmd(1, { timeoutMs: 20 });
    await expect(first).rejects.toBeInstanceOf(CommandTimeoutError);
    await until(() => logger.lines.length === 1);
    expect(seen[0]).toBeInstanceOf(CommandTimeoutError);
    expect(logger.lines[0]?.message).toMatch(
      /decided to emit after its caller gave up; the events were dropped/,
    );
    expect(ref.seqNo).toBe(0);
    expect(await logOf(evtLog, "p", "patient")).toEqual([]);
  });

  it("aborting a command while its async handleCmd decides abandons it; the entity serves the next one", async () => {
    const { definition, started, release } = gatedCounter();
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("g", definition, { evtLog, logger: silentLogger });
    const controller = new AbortController();
    const running = ref.handleCmd(5, { signal: controller.signal });
    const next = ref.handleCmd(7);
    await until(() => started.length === 1);
    controller.abort(new Error("caller left"));
    await expect(running).rejects.toThrow("caller left");
    // The next command runs although the abandoned handler has not settled.
    await until(() => started.length === 2);
    await release(); // the abandoned one: its decision is dropped
    await release();
    expect(await next).toMatchObject({ kind: "accepted", reply: 7, seqNo: 1 });
    expect(await logOf(evtLog, "g", "gated")).toEqual([{ seqNo: 1, evt: 7 }]);
  });

  it("an abort in the same tick as the decision settles: the warning that the events were dropped never lies", async () => {
    const logger = new RecordingLogger();
    let caller = new AbortController();
    // The decision settles, then its caller gives up before the entity's loop has seen it.
    const racing = defineEntity<number, number, number, number>({
      typeName: "racing",
      initialState: () => 0,
      handleCmd: (_state, n) =>
        new Promise((resolve) =>
          setImmediate(() => {
            resolve(emitAndReply<number, number, number>([n], (s) => s));
            caller.abort(new Error("caller left"));
          }),
        ),
      handleEvt: (s, n) => s + n,
    });
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("r", racing, { evtLog, logger });
    const outcome = await ref.handleCmd(1, { signal: caller.signal }).then(
      (result) => result.kind,
      (error: Error) => error.message,
    );
    caller = new AbortController();
    // The next command runs after the late decision was reported, if it was.
    await ref.handleCmd(2);
    const warned = logger.lines.filter((line) => /the events were dropped/.test(line.message)).length;
    const logged = (await logOf(evtLog, "r", "racing")).map((e) => e.evt);
    // Either the command was abandoned (rejected, nothing written, one warning) or it was applied (accepted,
    // written, no warning); never written and reported as dropped.
    expect({ outcome, warned, logged }).toEqual(
      outcome === "accepted"
        ? { outcome, warned: 0, logged: [1, 2] }
        : { outcome: "caller left", warned: 1, logged: [2] },
    );
  });

  it("a handleCmd returning a thenable whose then throws fails its command; the signal's abort still reaches the others", async () => {
    const hostile = defineEntity<number, number, number, number>({
      typeName: "hostile",
      initialState: () => 0,
      // 0: a thenable whose `then` throws; otherwise a decision that never comes.
      handleCmd: (_state, n) =>
        (n === 0
          ? {
              // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is what this test is about
              then() {
                throw new Error("then threw");
              },
            }
          : new Promise<never>(() => {})) as unknown as Promise<never>,
      handleEvt: (s, n) => s + n,
    });
    const evtLog = new InMemoryEvtLog();
    const a = await Entity.spawn("a", hostile, { evtLog, logger: silentLogger });
    const b = await Entity.spawn("b", hostile, { evtLog, logger: silentLogger });
    const shutdown = new AbortController();
    await expect(a.handleCmd(0, { signal: shutdown.signal })).rejects.toThrow("then threw");
    const waiting = b.handleCmd(1, { signal: shutdown.signal });
    const reason = new Error("shutting down");
    shutdown.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await Promise.all([a.stop(), b.stop()]);
    expect(await logOf(evtLog, "b", "hostile")).toEqual([]);
  });

  it("an abandoned idempotent command runs again when retried with its key", async () => {
    let calls = 0;
    const slowOnce = defineEntity<number, number, number, number>({
      typeName: "slow-once",
      initialState: () => 0,
      // The first call never settles; later ones decide at once.
      handleCmd: (_state, n) =>
        calls++ === 0 ? new Promise<never>(() => {}) : emitAndReply<number, number, number>([n], (s) => s),
      handleEvt: (s, n) => s + n,
    });
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("k", slowOnce, { evtLog });
    await expect(ref.handleCmd(4, { idempotencyKey: "order-1", timeoutMs: 10 })).rejects.toBeInstanceOf(
      CommandTimeoutError,
    );
    expect(await ref.handleCmd(4, { idempotencyKey: "order-1" })).toMatchObject({
      kind: "accepted",
      seqNo: 1,
    });
    expect(await ref.handleCmd(4, { idempotencyKey: "order-1" })).toMatchObject({
      kind: "duplicate",
      seqNo: 1,
    });
    expect(await logOf(evtLog, "k", "slow-once")).toEqual([{ seqNo: 1, evt: 4 }]);
  });

  it("a handleCmd that never settles does not hold up stop() when its command has a timeoutMs", async () => {
    const stuck = defineEntity<number, number, number, number>({
      typeName: "stuck",
      initialState: () => 0,
      handleCmd: () => new Promise<never>(() => {}),
      handleEvt: (s, n) => s + n,
    });
    const ref = await Entity.spawn("s", stuck, { evtLog: new InMemoryEvtLog() });
    const hung = ref.handleCmd(1, { timeoutMs: 10 });
    const queued = ref.handleCmd(2, { timeoutMs: 50 });
    const stopping = ref.stop();
    await expect(hung).rejects.toBeInstanceOf(CommandTimeoutError);
    await expect(queued).rejects.toBeInstanceOf(CommandTimeoutError);
    await stopping;
    expect(ref.status).toBe("stopped");
  });

  it("a command that started persisting completes although its caller gives up", async () => {
    const evtLog = new InMemoryEvtLog();
    let releasePersist!: () => void;
    const gate = new Promise<void>((resolve) => {
      releasePersist = resolve;
    });
    const persist = evtLog.persist.bind(evtLog);
    evtLog.persist = async (...args: Parameters<typeof persist>) => {
      await gate;
      return persist(...args);
    };
    const ref = await Entity.spawn("c1", counter, { evtLog });
    const controller = new AbortController();
    const running = ref.handleCmd(inc(3), { signal: controller.signal });
    await settle();
    controller.abort(new Error("caller left"));
    releasePersist();
    expect(await running).toMatchObject({ kind: "accepted", seqNo: 1 });
  });

  it("stop() finishes the queued commands, resolves when idle, and later commands get EntityStoppedError", async () => {
    const { definition, release } = gatedCounter();
    const ref = await Entity.spawn("g", definition, { evtLog: new InMemoryEvtLog() });
    const queued = [ref.handleCmd(1), ref.handleCmd(2), ref.handleCmd(3)];
    let stopped = false;
    const stopping = ref.stop().then(() => {
      stopped = true;
    });
    expect(ref.status).toBe("stopping");
    await expect(ref.handleCmd(4)).rejects.toBeInstanceOf(EntityStoppedError);

    for (let i = 0; i < 3; i++) {
      await settle();
      expect(stopped).toBe(false);
      await release();
    }
    await stopping;
    expect((await Promise.all(queued)).map((r) => r.seqNo)).toEqual([1, 2, 3]);
    expect(ref.status).toBe("stopped");
    expect(await ref.whenStopped).toEqual({ reason: "stopped" });
    await expect(ref.handleCmd(5)).rejects.toBeInstanceOf(EntityStoppedError);
  });

  it("stop() is idempotent and resolves at once for an idle entity", async () => {
    const ref = await Entity.spawn("c1", counter, { evtLog: new InMemoryEvtLog() });
    await ref.handleCmd(inc(1));
    const a = ref.stop();
    const b = ref.stop();
    expect(a).toBe(b);
    await a;
    await ref.stop();
    expect(ref.status).toBe("stopped");
  });
});
