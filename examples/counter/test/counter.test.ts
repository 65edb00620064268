import { describe, expect, it } from "vitest";
import { counter, dec, get, inc, MAX_COUNTER_VALUE } from "../src/counter.js";
import { counterBinarizer } from "../src/counter-binarizer.js";
import type { CounterEvt } from "../src/generated/counter.js";
import { counterCmdAt, netChangeOf } from "../src/workload.js";

const ctx = { id: "counter-0", seqNo: 0, signal: undefined };
const at = (value: bigint) => ({ value });

describe("the counter entity", () => {
  it("starts at zero", () => {
    expect(counter.initialState("counter-0")).toEqual({ value: 0n });
  });

  it("Inc emits Increased with the old value and replies with the new value", () => {
    const decision = counter.handleCmd(at(5n), inc(3), ctx);
    expect(decision).toMatchObject({
      kind: "emit",
      evts: [{ evt: { $case: "increased", value: { oldValue: 5n, inc: 3n } } }],
    });
    if (!("kind" in decision) || decision.kind !== "emit") throw new Error("expected emit");
    expect(decision.reply(at(8n))).toBe(8n);
  });

  it("Dec emits Decreased with the old value", () => {
    expect(counter.handleCmd(at(5n), dec(5), ctx)).toMatchObject({
      kind: "emit",
      evts: [{ evt: { $case: "decreased", value: { oldValue: 5n, dec: 5n } } }],
    });
  });

  it("Inc up to exactly 2^64 - 1 is accepted", () => {
    expect(counter.handleCmd(at(MAX_COUNTER_VALUE - 1n), inc(1), ctx)).toMatchObject({ kind: "emit" });
  });

  it("Inc beyond 2^64 - 1 is rejected with Overflow", () => {
    expect(counter.handleCmd(at(MAX_COUNTER_VALUE), inc(1), ctx)).toEqual({
      kind: "reject",
      rejection: { kind: "overflow", value: MAX_COUNTER_VALUE, inc: 1n },
    });
  });

  it("Dec below zero is rejected with Underflow", () => {
    expect(counter.handleCmd(at(2n), dec(3), ctx)).toEqual({
      kind: "reject",
      rejection: { kind: "underflow", value: 2n, dec: 3n },
    });
  });

  it("Get replies with the value and emits nothing", () => {
    expect(counter.handleCmd(at(7n), get(), ctx)).toEqual({ kind: "reply", reply: 7n });
  });

  it("an amount that is not a u64 is a programming error, not a rejection", () => {
    expect(() => counter.handleCmd(at(0n), inc(-1n), ctx)).toThrow(RangeError);
    expect(() => counter.handleCmd(at(0n), dec(2n ** 64n), ctx)).toThrow(RangeError);
  });

  it("folds Increased and Decreased into the value", () => {
    const evts: CounterEvt[] = [
      { evt: { $case: "increased", value: { oldValue: 0n, inc: MAX_COUNTER_VALUE } } },
      { evt: { $case: "decreased", value: { oldValue: MAX_COUNTER_VALUE, dec: 1n } } },
    ];
    const state = evts.reduce((s, e, i) => counter.handleEvt(s, e, i + 1), counter.initialState("c"));
    expect(state.value).toBe(MAX_COUNTER_VALUE - 1n);
  });

  it("refuses to fold an event of an unknown kind", () => {
    expect(() => counter.handleEvt(at(0n), { evt: undefined }, 1)).toThrow(/unknown counter event/);
  });
});

describe("the counter binarizers", () => {
  const evt: CounterEvt = {
    evt: { $case: "decreased", value: { oldValue: MAX_COUNTER_VALUE, dec: 2n ** 63n } },
  };

  it.each(["protobuf", "json"] as const)("%s round-trips u64 events and state", (kind) => {
    const binarizer = counterBinarizer(kind);
    expect(binarizer.evtFromBytes(binarizer.evtToBytes(evt))).toEqual(evt);
    expect(binarizer.stateFromBytes(binarizer.stateToBytes(at(MAX_COUNTER_VALUE)))).toEqual(
      at(MAX_COUNTER_VALUE),
    );
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
