import { Entity, type TypedEvtRecord } from "@eventsourced/core";
import { observeEvtsByType, toObservable } from "@eventsourced/core/rxjs";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { filter, firstValueFrom, map, take, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { counter, inc, until } from "./fixtures.js";

describe("rxjs edge helper", () => {
  it("a live evtsByType stream as an Observable sees events appended after subscribing", async () => {
    const evtLog = new InMemoryEvtLog();
    const ref = await Entity.spawn("c1", counter, { evtLog });
    await ref.handleCmd(inc(1));
    const firstThree = firstValueFrom(
      observeEvtsByType(evtLog, "counter", { live: true }).pipe(
        map((r) => r.seqNo),
        take(3),
        toArray(),
      ),
    );
    await ref.handleCmd(inc(2));
    await ref.handleCmd(inc(3));
    expect(await firstThree).toEqual([1, 2, 3]);
  });

  it("unsubscribing aborts the underlying read", async () => {
    let signal: AbortSignal | undefined;
    let finished = false;
    const evtLog = new InMemoryEvtLog();
    const seen: TypedEvtRecord[] = [];
    const subscription = toObservable((s) => {
      signal = s;
      const source = evtLog.evtsByType("counter", { live: true, signal: s });
      return (async function* () {
        try {
          yield* source;
        } finally {
          finished = true;
        }
      })();
    }).subscribe((r) => seen.push(r));
    await evtLog.persist("counter", "c1", 0, [{ bytes: new Uint8Array([1]) }]);
    await until(() => seen.length === 1);
    subscription.unsubscribe();
    expect(signal?.aborted).toBe(true);
    await until(() => finished);
  });

  it("errors of the source reach the subscriber", async () => {
    const failing = async function* (): AsyncIterable<number> {
      yield 1;
      throw new Error("read failed");
    };
    const values: number[] = [];
    const error = await new Promise((resolve) =>
      toObservable(failing()).subscribe({ next: (v) => values.push(v), error: resolve }),
    );
    expect(values).toEqual([1]);
    expect(error).toMatchObject({ message: "read failed" });
  });

  it("a finite AsyncIterable completes the Observable and works with operators", async () => {
    const numbers = async function* () {
      for (let i = 1; i <= 6; i++) yield i;
    };
    expect(
      await firstValueFrom(
        toObservable(numbers()).pipe(
          filter((n) => n % 2 === 0),
          toArray(),
        ),
      ),
    ).toEqual([2, 4, 6]);
  });
});
