import { given } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { type CounterEvt, counter, dec, inc, MAX } from "./fixtures.js";

const increased = (by: number): CounterEvt => ({ type: "increased", by });

describe("given/when/then", () => {
  it("checks the events and the reply of an accepted command", async () => {
    (await given(counter, [increased(2)]).when(inc(3)))
      .thenEvents([increased(3)])
      .thenReply(5)
      .thenState(5);
  });

  it("checks a multi-event command and the seqNo after it", async () => {
    const then = await given(counter, [increased(1)]).when({ type: "incMany", bys: [2, 3] });
    then.thenEvents([increased(2), increased(3)]).thenReply(6);
    expect(then.seqNo).toBe(3);
  });

  it("checks a rejection", async () => {
    (await given(counter, [increased(MAX)]).when(inc(1))).thenRejected("overflow");
    (await given(counter).when(dec(1))).thenRejected("underflow");
  });

  it("checks a read-only reply", async () => {
    const then = await given(counter, [increased(4), increased(4)]).when({ type: "get" });
    then.thenReply(8);
    expect(then.outcome.kind).toBe("replied");
  });

  it("checks that handleCmd throws", async () => {
    (await given(counter).when({ type: "boom" })).thenThrows("boom");
  });

  it("fails with a message saying what happened instead", async () => {
    const then = await given(counter, [increased(MAX)]).when(inc(1));
    expect(() => then.thenEvents([increased(1)])).toThrow(
      'expected events, but the command rejected with "overflow"',
    );
    expect(() => then.thenReply(1)).toThrow("expected a reply");
  });
});

describe("given() from untyped code", () => {
  it("refuses a definition that is not one, or events that are not an array, with InvalidArgumentError", () => {
    for (const call of [() => given(null as never), () => given(counter, "abc" as never)]) {
      expect(call).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });
});
