import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import { observeProjected } from "@eventsourced/projections/rxjs";
import { firstValueFrom, map, take, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { deposit, depositBinarizer } from "./support/fixtures.js";

describe("the rxjs edge", () => {
  it("emits a type's events decoded, and ends a live read when unsubscribed", async () => {
    const log = new InMemoryEvtLog();
    const type = uniqueTypeName();
    await log.persist(type, "a", 0, [deposit(1), deposit(2)]);
    const amounts = firstValueFrom(
      observeProjected(log, type, depositBinarizer, { live: true }).pipe(
        map((e) => `${e.id}:${e.seqNo}:${e.evt.amount}`),
        take(3),
        toArray(),
      ),
    );
    await log.persist(type, "b", 0, [deposit(5)]);
    expect(await amounts).toEqual(["a:1:1", "a:2:2", "b:1:5"]);
  });

  it("errors with a DecodeError on an event it cannot decode, or skips it when told to", async () => {
    const log = new InMemoryEvtLog();
    const type = uniqueTypeName();
    await log.persist(type, "a", 0, [deposit(1), { bytes: new TextEncoder().encode("{oops") }, deposit(3)]);
    await expect(
      firstValueFrom(observeProjected(log, type, depositBinarizer).pipe(toArray())),
    ).rejects.toMatchObject({
      code: "DECODE_FAILED",
      seqNo: 2,
    });
    const skipped = await firstValueFrom(
      observeProjected(log, type, depositBinarizer, { undecodable: "skip" }).pipe(
        map((e) => e.seqNo),
        toArray(),
      ),
    );
    expect(skipped).toEqual([1, 3]);
  });
});
