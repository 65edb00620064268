import { given } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter, dec, get, inc, MAX_COUNTER_VALUE } from "../src/counter.js";
import { counterBinarizer } from "../src/counter-binarizer.js";
import type { CounterEvt } from "../src/generated/counter.js";
import { counterCmdAt, netChangeOf } from "../src/workload.js";

const increased = (oldValue: bigint, by: bigint): CounterEvt => ({
  evt: { $case: "increased", value: { oldValue, inc: by } },
});
const decreased = (oldValue: bigint, by: bigint): CounterEvt => ({
  evt: { $case: "decreased", value: { oldValue, dec: by } },
});

describe("the counter entity", () => {
  it("starts at zero", async () => {
    (await given(counter).when(get())).thenReply(0n);
  });

  it("Inc emits Increased with the old value and replies with the new value", async () => {
    (await given(counter, [increased(0n, 5n)]).when(inc(3)))
      .thenEvents([increased(5n, 3n)])
      .thenReply(8n)
      .thenState({ value: 8n });
  });

  it("Dec emits Decreased with the old value and replies with the new value", async () => {
    (await given(counter, [increased(0n, 5n)]).when(dec(5))).thenEvents([decreased(5n, 5n)]).thenReply(0n);
  });

  it("Inc up to exactly 2^64 - 1 is accepted", async () => {
    (await given(counter, [increased(0n, MAX_COUNTER_VALUE - 1n)]).when(inc(1))).thenReply(MAX_COUNTER_VALUE);
  });

  it("Inc beyond 2^64 - 1 is rejected with Overflow", async () => {
    (await given(counter, [increased(0n, MAX_COUNTER_VALUE)]).when(inc(1))).thenRejected({
      kind: "overflow",
      value: MAX_COUNTER_VALUE,
      inc: 1n,
    });
  });

  it("Dec below zero is rejected with Underflow", async () => {
    (await given(counter, [increased(0n, 2n)]).when(dec(3))).thenRejected({
      kind: "underflow",
      value: 2n,
      dec: 3n,
    });
  });

  it("Get replies with the value and emits nothing", async () => {
    const then = (await given(counter, [increased(0n, 7n)]).when(get())).thenReply(7n);
    expect(then.outcome.kind).toBe("replied");
    expect(then.seqNo).toBe(1);
  });

  it("an amount that is not a u64 is a programming error, not a rejection", async () => {
    (await given(counter).when(inc(-1n))).thenThrows(RangeError);
    (await given(counter).when(dec(2n ** 64n))).thenThrows(RangeError);
  });

  it("folds Increased and Decreased into the value", () => {
    const history = [increased(0n, MAX_COUNTER_VALUE), decreased(MAX_COUNTER_VALUE, 1n)];
    expect(given(counter, history).state).toEqual({ value: MAX_COUNTER_VALUE - 1n });
  });

  it("refuses to fold an event of an unknown kind", () => {
    expect(() => counter.handleEvt({ value: 0n }, { evt: undefined }, 1)).toThrow(/unknown counter event/);
  });
});

describe("the counter binarizers", () => {
  const evt: CounterEvt = {
    evt: { $case: "decreased", value: { oldValue: MAX_COUNTER_VALUE, dec: 2n ** 63n } },
  };

  it.each(["protobuf", "json"] as const)("%s round-trips u64 events and state", (kind) => {
    const binarizer = counterBinarizer(kind);
    expect(binarizer.evtFromBytes(binarizer.evtToBytes(evt))).toEqual(evt);
    expect(binarizer.stateFromBytes(binarizer.stateToBytes({ value: MAX_COUNTER_VALUE }))).toEqual({
      value: MAX_COUNTER_VALUE,
    });
  });

  it("protobuf names the message type in its content type", () => {
    expect(counterBinarizer("protobuf").contentType).toContain("counter.v1.CounterEvt");
  });
});

describe("the workload", () => {
  it("alternates Inc and Dec so that every pair raises the value by one", () => {
    expect([0, 1, 2, 3].map(counterCmdAt)).toEqual([inc(2), dec(1), inc(4), dec(3)]);
    for (const count of [0, 1, 2, 3, 10, 11]) {
      let value = 0n;
      for (let k = 0; k < count; k++) {
        const cmd = counterCmdAt(k);
        if (cmd.kind === "inc") value += cmd.n;
        if (cmd.kind === "dec") value -= cmd.n;
        expect(value).toBeGreaterThanOrEqual(0n);
      }
      expect(value).toBe(netChangeOf(count));
    }
  });
});
