import { Entity, EntityRegistry, ErrorCode, isEventSourcedError, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter } from "./fixtures.js";

// A definition written in JavaScript (or cast past the types) is checked once, when a config is made from
// it: a member that is not a function is the caller's error, named, and not a RecoveryError around a
// TypeError at every later spawn.

const broken: [string, Record<string, unknown>][] = [
  ["initialState is a value", { ...counter, initialState: 0 }],
  ["handleCmd is missing", { ...counter, handleCmd: undefined }],
  ["handleEvt is null", { ...counter, handleEvt: null }],
];

function expectInvalid(error: unknown, member: string): void {
  expect(isEventSourcedError(error, ErrorCode.InvalidArgument)).toBe(true);
  expect((error as Error).message).toContain(member);
}

describe("entity definitions from untyped code", () => {
  it.each(broken)("Entity.spawn refuses a definition whose %s, writing nothing", async (name, definition) => {
    const evtLog = new InMemoryEvtLog();
    const error = await Entity.spawn("a", definition as never, { evtLog, logger: silentLogger }).catch(
      (e: unknown) => e,
    );
    expectInvalid(error, name.split(" ")[0]!);
    expect(await evtLog.lastSeqNo(counter.typeName, "a")).toBe(0);
  });

  it.each(broken)("EntityRegistry refuses a definition whose %s when it is created", (name, definition) => {
    let error: unknown;
    try {
      new EntityRegistry(definition as never, { evtLog: new InMemoryEvtLog(), logger: silentLogger });
    } catch (e) {
      error = e;
    }
    expectInvalid(error, name.split(" ")[0]!);
  });

  it("Entity.spawn refuses a definition that is not an object", async () => {
    const error = await Entity.spawn("a", null as never, {
      evtLog: new InMemoryEvtLog(),
      logger: silentLogger,
    }).catch((e: unknown) => e);
    expect(isEventSourcedError(error, ErrorCode.InvalidArgument)).toBe(true);
  });
});
