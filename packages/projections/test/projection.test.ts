import { ConnectionError, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import {
  atLeastOnce,
  type ProjectedEvt,
  Projection,
  type ProjectionHandler,
} from "@eventsourced/projections";
import { InMemoryLeases, InMemoryProjectionStore } from "@eventsourced/projections/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type Deposited, deposit, depositBinarizer, waitUntil } from "./support/fixtures.js";

// The driver-free runtime on the in-memory log and store. PostgreSQL and NATS get their own files.

const running: Projection<Deposited>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

interface Setup {
  readonly log: InMemoryEvtLog;
  readonly store: InMemoryProjectionStore;
  readonly type: string;
  readonly totals: Map<string, number>;
  readonly applied: ProjectedEvt<Deposited>[];
}

function setup(): Setup {
  return {
    log: new InMemoryEvtLog(),
    store: new InMemoryProjectionStore(),
    type: uniqueTypeName("acct"),
    totals: new Map(),
    applied: [],
  };
}

function summing(s: Setup, fail?: (evt: ProjectedEvt<Deposited>) => boolean): ProjectionHandler<Deposited> {
  return atLeastOnce<Deposited>({
    store: s.store,
    saveAfterEvents: 1,
    handle: (evts) => {
      if (fail !== undefined && evts.some(fail)) throw new Error("handler refuses a poison event");
      for (const e of evts) {
        s.applied.push(e);
        s.totals.set(e.id, (s.totals.get(e.id) ?? 0) + e.evt.amount);
      }
    },
    reset: () => {
      s.totals.clear();
      s.applied.length = 0;
    },
  });
}

function start(
  s: Setup,
  handler: ProjectionHandler<Deposited>,
  extra: Partial<Parameters<typeof Projection.create<Deposited>>[0]> = {},
): Projection<Deposited> {
  const projection = Projection.create<Deposited>({
    name: `p-${s.type}`,
    evtLog: s.log,
    type: s.type,
    binarizer: depositBinarizer,
    handler,
    batch: { maxEvents: 50, maxWaitMs: 5 },
    onError: { retries: 1, backoff: { initialMs: 1, maxMs: 2 } },
    logger: silentLogger,
    statusPollMs: 20,
    ...extra,
  });
  running.push(projection);
  projection.start();
  return projection;
}

async function write(s: Setup, id: string, amounts: number[], poisonAt = -1): Promise<number> {
  let seqNo = await s.log.lastSeqNo(s.type, id);
  let position = 0;
  for (const [i, amount] of amounts.entries()) {
    ({ seqNo, position } = await s.log.persist(s.type, id, seqNo, [deposit(amount, i === poisonAt)]));
  }
  return position;
}

describe("Projection (in memory)", () => {
  it("hands decoded events to the handler in position order, with id, seqNo, position and recordedAt", async () => {
    const s = setup();
    await write(s, "a", [1, 2]);
    const last = await write(s, "b", [10]);
    const p = start(s, summing(s));
    await p.waitFor(last);
    expect(s.applied.map((e) => [e.id, e.seqNo, e.evt.amount])).toEqual([
      ["a", 1, 1],
      ["a", 2, 2],
      ["b", 1, 10],
    ]);
    expect(s.applied.map((e) => e.position)).toEqual([1, 2, 3]);
    expect(s.applied[0]!.recordedAt).toBeInstanceOf(Date);
    expect(p.status).toMatchObject({ state: "running", position: 3, storedPosition: 3 });
  });

  it("keeps tailing: waitFor resolves for a position written after the start", async () => {
    const s = setup();
    const p = start(s, summing(s));
    const position = await write(s, "a", [5, 6]);
    await p.waitFor(position);
    expect(s.totals.get("a")).toBe(11);
  });

  it("whenCaughtUp resolves once the head as of the call is applied, and lag is then zero", async () => {
    const s = setup();
    for (let i = 0; i < 20; i++) await write(s, `e${i}`, [1, 1, 1]);
    const p = start(s, summing(s));
    await p.whenCaughtUp();
    expect(s.applied).toHaveLength(60);
    expect(await p.lag()).toEqual({ events: 0, ms: 0, headPosition: 60, position: 60 });
  });

  it("reports lag in events and in log time while it cannot keep up", async () => {
    const s = setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const p = start(s, atLeastOnce<Deposited>({ store: s.store, saveAfterEvents: 1, handle: () => gate }), {
      batch: { maxEvents: 1, maxWaitMs: 1 },
    });
    await write(s, "a", [1]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await write(s, "a", [2, 3]);
    const lag = await p.lag();
    expect(lag.events).toBe(3);
    expect(lag.ms).toBeUndefined(); // nothing applied yet: no log time to compare with
    release();
    await p.waitFor(3);
    expect((await p.lag()).events).toBe(0);
  });

  it("resumes from the stored checkpoint after a restart, without applying anything twice", async () => {
    const s = setup();
    await write(s, "a", [1, 2, 3]);
    const first = start(s, summing(s));
    await first.waitFor(3);
    await first.stop();
    expect(first.status.state).toBe("stopped");
    await write(s, "a", [4]);
    const second = start(s, summing(s));
    await second.waitFor(4);
    expect(s.applied.map((e) => e.seqNo)).toEqual([1, 2, 3, 4]);
  });

  it("retries a failing batch, then bisects it: one dead letter, everything else applied", async () => {
    const s = setup();
    for (let i = 0; i < 40; i++) await write(s, `e${i % 7}`, [1], i === 23 ? 0 : -1);
    const p = start(
      s,
      summing(s, (e) => e.evt.poison === true),
    );
    await p.waitFor(40);
    expect(s.applied).toHaveLength(39);
    const letters = await p.deadLetters();
    expect(letters.map((l) => [l.position, l.attempts > 1, l.error.includes("poison")])).toEqual([
      [24, true, true],
    ]);
    expect(p.stats).toMatchObject({ deadLettered: 1, bisections: 1 });
  });

  it("skips a poison event when told to, and stops at it when told to (resume retries it)", async () => {
    const skipping = setup();
    await write(skipping, "a", [1, 2, 3], 1);
    const p1 = start(
      skipping,
      summing(skipping, (e) => e.evt.poison === true),
      {
        onError: { retries: 0, exhausted: "skip" },
      },
    );
    await p1.waitFor(3);
    expect(skipping.applied.map((e) => e.seqNo)).toEqual([1, 3]);
    expect(await p1.deadLetters()).toEqual([]);

    const stopping = setup();
    await write(stopping, "a", [1, 2, 3], 1);
    let refuse = true;
    const p2 = start(
      stopping,
      summing(stopping, (e) => refuse && e.evt.poison === true),
      {
        onError: { retries: 0, exhausted: "stop" },
      },
    );
    await waitUntil(() => p2.status.state === "failed", "the projection to stop at the poison event");
    expect(p2.status.error?.name).toBe("PoisonEventError");
    expect(p2.status.position).toBe(1);
    expect((await stopping.store.load(p2.name))?.status).toBe("failed");
    await expect(p2.waitFor(3)).rejects.toMatchObject({ code: "PROJECTION_STOPPED" });
    refuse = false;
    await p2.resume();
    await waitUntil(() => p2.status.position === 3, "the projection to apply the event after a resume");
    expect(stopping.applied.map((e) => e.seqNo)).toEqual([1, 2, 3]);
  });

  it("dead-letters an event its binarizer cannot decode, and re-drives it once fixed", async () => {
    const s = setup();
    await write(s, "a", [1]);
    await s.log.persist(s.type, "a", 1, [
      { bytes: new TextEncoder().encode("{not json"), contentType: "application/json" },
    ]);
    await write(s, "a", [3]);
    const p = start(s, summing(s));
    await p.waitFor(3);
    const [letter] = await p.deadLetters();
    expect(letter).toMatchObject({ position: 2, id: "a", seqNo: 2, attempts: 1 });
    expect(letter!.error).toMatch(/DecodeError/);
    await expect(p.redrive(2)).rejects.toMatchObject({ code: "DECODE_FAILED" });
    expect(await p.deleteDeadLetter(2)).toBe(true);
    expect(await p.deadLetters()).toEqual([]);
    expect(s.totals.get("a")).toBe(4);
  });

  it("re-drives a dead letter through the handler and removes it", async () => {
    const s = setup();
    let refuse = true;
    await write(s, "a", [1, 2, 3], 1);
    const p = start(
      s,
      summing(s, (e) => refuse && e.evt.poison === true),
    );
    await p.waitFor(3);
    expect(s.totals.get("a")).toBe(4);
    refuse = false;
    await p.redrive(2);
    expect(s.totals.get("a")).toBe(6);
    expect(await p.deadLetters()).toEqual([]);
  });

  it("a failed checkpoint save is never ignored, and does not fail the saves after it", async () => {
    const s = setup();
    let failing = 2;
    const original = s.store.save.bind(s.store);
    s.store.save = async (fence, advance) => {
      if (failing-- > 0) throw new ConnectionError("injected: the store is away", "memory");
      return original(fence, advance);
    };
    const p = start(s, summing(s));
    await p.waitFor(await write(s, "a", [1, 2, 3]));
    await waitUntil(async () => (await s.store.load(p.name))?.position === 3, "the checkpoint to be saved");
    // The events of the failed saves were applied again after each restart: at-least-once, never lost.
    expect(new Set(s.applied.map((e) => e.position))).toEqual(new Set([1, 2, 3]));
    expect(s.applied.length).toBeGreaterThan(3);
  });

  it("pause is persisted: a paused projection applies nothing until resumed, even after a restart", async () => {
    const s = setup();
    const p = start(s, summing(s));
    await p.waitFor(await write(s, "a", [1]));
    await p.pause();
    await waitUntil(() => p.status.state === "paused", "the pause");
    await write(s, "a", [2]);
    await p.stop();
    const again = start(s, summing(s));
    await waitUntil(() => again.status.state === "paused", "the restarted instance to stay paused");
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(s.totals.get("a")).toBe(1);
    await again.resume();
    await again.waitFor(2);
    expect(s.totals.get("a")).toBe(3);
  });

  it("a pause stored by another process stops the running instance at the next check", async () => {
    const s = setup();
    const p = start(s, summing(s));
    await p.waitFor(await write(s, "a", [1]));
    await s.store.setStatus(p.name, "paused");
    await waitUntil(() => p.status.state === "paused", "the instance to notice the pause");
    await s.store.setStatus(p.name, "running");
    await waitUntil(() => p.status.state === "running", "the instance to notice the resume");
  });

  it("reset replays from a position; rebuild starts over with the handler's reset", async () => {
    const s = setup();
    const p = start(s, summing(s));
    await p.waitFor(await write(s, "a", [1, 2, 3]));
    await p.reset(1);
    await waitUntil(() => s.applied.length === 5, "the replay after position 1");
    expect(s.totals.get("a")).toBe(11); // 1 + 2 + 3, then 2 + 3 again: a replay, by request
    await p.rebuild();
    await waitUntil(() => s.applied.length === 3 && p.status.position === 3, "the rebuild");
    expect(s.totals.get("a")).toBe(6);
  });

  it("one instance runs, the other waits on the lease and takes over when it is released or expires", async () => {
    const s = setup();
    const leases = new InMemoryLeases();
    const key = `projection.p-${s.type}`;
    const a = start(s, summing(s), { lease: leases.keeper("a") });
    await waitUntil(() => a.status.state === "running", "the first instance to run");
    const b = start(s, summing(s), { lease: leases.keeper("b") });
    await waitUntil(() => b.status.state === "standby", "the second instance to wait");
    await a.waitFor(await write(s, "a", [1, 2]));
    expect(b.status.state).toBe("standby");
    await a.stop(); // releases the lease
    await waitUntil(() => b.status.state === "running", "the second instance to take over");
    expect(leases.holder(key)).toBe("b");
    await b.waitFor(await write(s, "a", [3]));
    const c = start(s, summing(s), { lease: leases.keeper("c") });
    await waitUntil(() => c.status.state === "standby", "the third instance to wait");
    const before = b.status.epoch;
    leases.expire(key); // b's lease ends as if it had stopped renewing: b and c compete for the next tenure
    const next = () => [b, c].find((p) => p.status.state === "running" && p.status.epoch > before);
    await waitUntil(() => next() !== undefined, "a new tenure after the expiry");
    await next()!.waitFor(await write(s, "a", [4]));
    expect([b, c].filter((p) => p.status.state === "running")).toHaveLength(1);
    expect(s.applied.map((e) => e.seqNo)).toEqual([1, 2, 3, 4]);
    expect(b.status.epoch).toBeGreaterThan(a.status.epoch);
  });

  it("an instance whose lease was taken over stops at its next compare-and-set without writing", async () => {
    const s = setup();
    const a = start(s, summing(s), { lease: new InMemoryLeases().keeper("a") });
    await a.waitFor(await write(s, "a", [1]));
    // Another instance claims the checkpoint under a newer epoch while `a` still believes it holds the lease.
    await s.store.claim(a.name, s.type, a.status.epoch + 1);
    await write(s, "a", [2]);
    await waitUntil(() => a.status.state === "failed", "the stale instance to be fenced");
    expect(a.status.error).toMatchObject({ code: "PROJECTION_FENCED" });
    expect((await s.store.load(a.name))?.position).toBe(1);
  });
});
