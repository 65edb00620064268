import { type CmdResult, Entity, type EntityRef } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expectTypeOf, it } from "vitest";
import { type CounterCmd, type CounterRejection, counter } from "./fixtures.js";

describe("types", () => {
  it("reply and rejection types flow from the definition without casts", async () => {
    const ref = await Entity.spawn("c1", counter, { evtLog: new InMemoryEvtLog() });
    expectTypeOf(ref).toEqualTypeOf<EntityRef<CounterCmd, number, CounterRejection>>();
    const result = await ref.handleCmd({ type: "inc", by: 1 });
    expectTypeOf(result).toEqualTypeOf<CmdResult<number, CounterRejection>>();
    if (result.kind === "accepted") expectTypeOf(result.reply).toEqualTypeOf<number>();
    else expectTypeOf(result.rejection).toEqualTypeOf<CounterRejection>();
    // Compiled, never called:
    const _notACommand = () =>
      // @ts-expect-error: not a command of the counter
      ref.handleCmd({ type: "reset" });
    await ref.stop();
  });
});
