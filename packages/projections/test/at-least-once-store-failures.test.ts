import { silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import { atLeastOnce, isInfrastructureError, Projection } from "@eventsourced/projections";
import { InMemoryProjectionStore } from "@eventsourced/projections/testing";
import { describe, expect, it } from "vitest";
import { type Deposited, deposit, depositBinarizer } from "./support/fixtures.js";

// An at-least-once handler saves its checkpoint after handling a batch. When that save fails, the store
// failed, not the handler or an event: the projection must restart from its checkpoint (handling the
// batch again), never bisect the failure down to an event and dead-letter, skip or stop on it.

describe("at-least-once: a failing checkpoint save", () => {
  it.each(["dead-letter", "skip", "stop"] as const)(
    "is retried as the store's failure with exhausted %s: no dead letter, no skip, every event handled",
    async (exhausted) => {
      const evtLog = new InMemoryEvtLog();
      const type = uniqueTypeName("acct");
      const store = new InMemoryProjectionStore();
      const save = store.save.bind(store);
      let failSaves = 0;
      store.save = async (...args) => {
        if (failSaves > 0) {
          failSaves--;
          throw new Error("store hiccup");
        }
        return save(...args);
      };
      const handled = new Map<number, number>();
      const p = Projection.create<Deposited>({
        name: `alo-${type}`,
        evtLog,
        type,
        binarizer: depositBinarizer,
        logger: silentLogger,
        batch: { maxEvents: 8, maxWaitMs: 1 },
        onError: { retries: 1, backoff: { initialMs: 1, maxMs: 2 }, exhausted },
        retryBackoff: { initialMs: 1, maxMs: 5 },
        handler: atLeastOnce<Deposited>({
          store,
          saveAfterEvents: 1,
          handle: (evts) => {
            for (const e of evts) handled.set(e.position, (handled.get(e.position) ?? 0) + 1);
          },
        }),
      });
      const write = async (from: number, count: number) => {
        for (let i = from; i < from + count; i++) await evtLog.persist(type, `e${i}`, 0, [deposit(1)]);
      };
      p.start();
      try {
        await write(0, 20);
        await p.waitFor(20);
        failSaves = 6;
        await write(20, 20);
        await p.waitFor(40);
        expect(p.status.state).toBe("running");
        expect(p.stats.skipped ?? 0).toBe(0);
        expect(await store.deadLetters(`alo-${type}`)).toEqual([]);
        for (let position = 1; position <= 40; position++) expect(handled.get(position)).toBeGreaterThan(0);
        expect(failSaves).toBe(0);
      } finally {
        await p.stop();
      }
    },
  );

  it("is reported as CHECKPOINT_SAVE_FAILED, an infrastructure error, with the store's error as its cause", async () => {
    const store = new InMemoryProjectionStore();
    const cause = new Error("store hiccup");
    store.save = async () => {
      throw cause;
    };
    const handler = atLeastOnce<Deposited>({ store, saveAfterEvents: 1, handle: () => {} });
    handler.begin({ name: "p", epoch: 1, position: 0 });
    await handler.apply([], { position: 1, lastEventAt: undefined, deadLetters: [] });
    const error = await handler.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "CHECKPOINT_SAVE_FAILED", cause });
    expect(isInfrastructureError(error)).toBe(true);
  });
});
