import {
  Entity,
  ErrorCode,
  InvalidArgumentError,
  isEventSourcedError,
  MAX_ID_BYTES,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counter } from "./fixtures.js";

describe("Entity ids", () => {
  it.each([
    ["a lone high surrogate", "\uD800", "well-formed Unicode"],
    ["a lone low surrogate inside", "a\uDC00b", "well-formed Unicode"],
    ["a NUL character", "nul\u0000", "NUL"],
    ["more than MAX_ID_BYTES bytes", "x".repeat(MAX_ID_BYTES + 1), `at most ${MAX_ID_BYTES}`],
    ["an empty string", "", "non-empty"],
  ])(
    "an id with %s is refused at spawn with InvalidArgumentError naming the rule, before touching the log",
    async (_what, id, rule) => {
      const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
      const error = await Entity.spawn(id, counter, { evtLog }).catch((e: unknown) => e);
      expect(isEventSourcedError(error, ErrorCode.InvalidArgument)).toBe(true);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toContain(rule);
      expect(evtLog.counts).toMatchObject({ lastSeqNo: 0, evtsById: 0 });
    },
  );

  it("an id of exactly MAX_ID_BYTES bytes of UTF-8 is accepted", async () => {
    // 128 four-byte characters: 512 bytes in 256 UTF-16 units.
    const id = "🎉".repeat(MAX_ID_BYTES / 4);
    const ref = await Entity.spawn(id, counter, { evtLog: new InMemoryEvtLog() });
    expect(await ref.handleCmd({ type: "inc", by: 1 })).toMatchObject({ kind: "accepted", seqNo: 1 });
    await ref.stop();
  });
});
