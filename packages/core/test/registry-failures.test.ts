import {
  DecodeError,
  EntityRegistry,
  ErrorCode,
  isEventSourcedError,
  jsonBinarizer,
  RecoveryError,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog } from "@eventsourced/core/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type CounterEvt, counter, foreignIncreased, inc, RecordingLogger } from "./fixtures.js";

/** A JSON binarizer that cannot decode events while `poisoned.now` is true. */
function poisonableBinarizer(poisoned: { now: boolean }) {
  const json = jsonBinarizer<CounterEvt, number>();
  return {
    ...json,
    evtFromBytes(bytes: Uint8Array, contentType?: string): CounterEvt {
      if (poisoned.now) throw new Error("poisoned event");
      return json.evtFromBytes(bytes, contentType);
    },
  };
}

async function logWithHistory(id: string): Promise<FaultyEvtLog> {
  const inner = new InMemoryEvtLog();
  await inner.persist("counter", id, 0, [foreignIncreased(1)]);
  return new FaultyEvtLog(inner);
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("EntityRegistry: failures", () => {
  it("a failing recovery gives callers the typed error; the next attempt waits for the backoff; a later success serves", async () => {
    vi.useFakeTimers();
    // Jitter at its top, so each backoff ends where the steps below expect (each wait starts at the failure,
    // which happens inside the previous advance).
    vi.spyOn(Math, "random").mockReturnValue(0.999);
    const evtLog = await logWithHistory("p");
    const poisoned = { now: true };
    const logger = new RecordingLogger();
    const registry = new EntityRegistry(counter, {
      evtLog,
      binarizer: poisonableBinarizer(poisoned),
      failureBackoff: { initialMs: 1_000, maxMs: 8_000 },
      logger,
    });
    const first = registry.send("p", inc(1)).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    const error = await first;
    expect(error).toBeInstanceOf(DecodeError);
    expect(isEventSourcedError(error, ErrorCode.Decode) && error.seqNo).toBe(1);
    expect(registry.phase("p")).toBeUndefined();
    expect(registry.stats).toMatchObject({ failures: 1, active: 0, waiting: 0 });
    expect(logger.lines.filter((l) => l.level === "warn").map((l) => l.message)).toEqual([
      "entity recovery failed; its next recovery backs off",
    ]);

    // The first backoff lasts 500..1000 ms (999.5 here): 100 callers meanwhile wait for one attempt after it.
    evtLog.resetCounts();
    const second = Array.from({ length: 100 }, () => registry.send("p", inc(1)).catch((e: unknown) => e));
    await vi.advanceTimersByTimeAsync(499);
    expect(evtLog.counts.lastSeqNo).toBe(0);
    expect(registry.stats.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(501);
    expect(evtLog.counts.lastSeqNo).toBe(1);
    for (const e of await Promise.all(second)) expect(e).toBeInstanceOf(DecodeError);
    expect(registry.stats.failures).toBe(2);

    // The second lasts 1000..2000 ms (1999 here, from the failure at 999.5 ms); the entity is healthy by then
    // and serves normally.
    poisoned.now = false;
    const healed = registry.send("p", inc(1));
    await vi.advanceTimersByTimeAsync(999);
    expect(evtLog.counts.lastSeqNo).toBe(1);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(await healed).toMatchObject({ kind: "accepted", reply: 2, seqNo: 2 });
    expect(registry.stats).toMatchObject({ failures: 2, active: 1 });

    // Success forgot the backoff: after a passivation the entity is recovered at once.
    await registry.passivate("p");
    const again = registry.send("p", { type: "get" });
    await vi.advanceTimersByTimeAsync(0);
    expect(await again).toMatchObject({ reply: 2, seqNo: 2 });
    await registry.close();
  });

  it("a poisoned entity cannot hot-loop recoveries, however often callers retry", async () => {
    vi.useFakeTimers();
    const evtLog = await logWithHistory("p");
    const registry = new EntityRegistry(counter, {
      evtLog,
      binarizer: poisonableBinarizer({ now: true }),
      failureBackoff: { initialMs: 1_000, maxMs: 8_000 },
      logger: new RecordingLogger(),
    });
    let sends = 0;
    let running = true;
    // Callers that give up after 50 ms and immediately try again, for 20 s.
    const callers = Array.from({ length: 10 }, async () => {
      while (running) {
        sends++;
        await registry.send("p", inc(1), { timeoutMs: 50 }).catch(() => undefined);
      }
    });
    await vi.advanceTimersByTimeAsync(20_000);
    running = false;
    await vi.advanceTimersByTimeAsync(8_000);
    await Promise.all(callers);
    expect(sends).toBeGreaterThan(3_000);
    // 0, then after 0.5-1, 1-2, 2-4, 4-8 and 4-8 s: at most 6 attempts within 20 s (+ the ones after).
    expect(evtLog.counts.lastSeqNo).toBeLessThanOrEqual(8);
    await registry.close();
  });

  it("a read failure during recovery reaches callers as RecoveryError; after the backoff the entity recovers", async () => {
    const evtLog = await logWithHistory("r");
    evtLog.failReads(1);
    const registry = new EntityRegistry(counter, {
      evtLog,
      failureBackoff: { initialMs: 5, maxMs: 10 },
      logger: new RecordingLogger(),
    });
    await expect(registry.send("r", inc(1))).rejects.toBeInstanceOf(RecoveryError);
    await expect(registry.send("r", inc(1))).resolves.toMatchObject({ reply: 2, seqNo: 2 });
    await registry.close();
  });

  it("an entity that fails while active is removed; its unserved commands get the next incarnation's typed error", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const logger = new RecordingLogger();
    const registry = new EntityRegistry(counter, {
      evtLog,
      failureBackoff: { initialMs: 5, maxMs: 10 },
      logger,
    });
    await registry.send("f", inc(1));
    // Another writer appends an event this entity cannot decode: the conflict's re-read fails for good.
    evtLog.conflictNextPersist({ bytes: new Uint8Array([0xff]), contentType: "application/json" });
    const results = await Promise.all(
      [inc(1), inc(2), { type: "get" as const }].map((cmd) =>
        registry.send("f", cmd).catch((e: unknown) => e),
      ),
    );
    for (const result of results) expect(result).toBeInstanceOf(DecodeError);
    expect(registry.phase("f")).toBeUndefined();
    // Once while active, once recovering again.
    expect(registry.stats).toMatchObject({ failures: 2, active: 0, stopping: 0 });
  });
});
