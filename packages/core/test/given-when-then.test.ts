import { defineEntity, emitAndReply, reject } from "@eventsourced/core";
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

interface Cart {
  readonly items: string[];
  readonly tags: Map<string, string>;
}

/** Mutates its state in place: adds the item, then rejects a duplicate after having changed the state. */
const sloppyCart = defineEntity<Cart, { add: string }, { added: string }, number, "duplicate">({
  typeName: "cart",
  initialState: () => ({ items: [], tags: new Map() }),
  handleCmd: (state, cmd) => {
    state.items.push(cmd.add);
    return state.items.indexOf(cmd.add) < state.items.length - 1
      ? reject("duplicate")
      : emitAndReply([{ added: cmd.add }], (s) => s.items.length);
  },
  handleEvt: (state, evt) => ({
    ...state,
    items: state.items.includes(evt.added) ? state.items : [...state.items, evt.added],
  }),
});

describe("given() freezes states and events", () => {
  it("a handleCmd that changes its state in place throws in the test instead of passing", async () => {
    const then = await given(sloppyCart, [{ added: "a" }]).when({ add: "b" });
    then.thenThrows(TypeError);
    // With freeze off it would pass, and in production leave the live state changed by a rejected command.
    (await given(sloppyCart, [{ added: "a" }], { freeze: false }).when({ add: "a" })).thenRejected(
      "duplicate",
    );
  });

  it("a handleEvt that changes the state or the event in place throws", async () => {
    const pushing = defineEntity<number[], "add", number, number>({
      typeName: "pushing",
      initialState: () => [],
      handleCmd: () => emitAndReply([1], (s) => s.length),
      handleEvt: (state, evt) => {
        state.push(evt);
        return state;
      },
    });
    (await given(pushing).when("add")).thenThrows(TypeError);
    expect(() => given(pushing, [1])).toThrow(TypeError);
  });

  it("leaves class instances and Maps alone (freezing cannot protect them)", () => {
    const frozenState = given(sloppyCart).state;
    expect(Object.isFrozen(frozenState.items)).toBe(true);
    expect(Object.isFrozen(frozenState.tags)).toBe(false);
  });
});

describe("given() from untyped code", () => {
  it("refuses a definition that is not one, events that are not an array or options of the wrong shape", () => {
    for (const call of [
      () => given(null as never),
      () => given(counter, "abc" as never),
      () => given(counter, [], null as never),
      () => given(counter, [], { freeze: "yes" as never }),
      () => given(counter, [], { id: 1 as never }),
    ]) {
      expect(call).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });
});
