import {
  ErrorCode,
  EventSourcedError,
  isEventSourcedError,
  PersistError,
  SeqNoConflictError,
} from "@eventsourced/core";
import { describe, expect, expectTypeOf, it } from "vitest";

describe("errors", () => {
  it("carry a stable code, their class name and the cause", () => {
    const cause = new Error("connection reset");
    const error = new PersistError("persist failed", true, { cause });
    expect(error).toBeInstanceOf(EventSourcedError);
    expect(error.code).toBe("PERSIST_FAILED");
    expect(error.name).toBe("PersistError");
    expect(error.cause).toBe(cause);
    expect(error.outcomeUnknown).toBe(true);
  });

  it("are recognised by isEventSourcedError, which narrows to the class of the code", () => {
    const error: unknown = new SeqNoConflictError("counter", "c-1", 3, { actualLastSeqNo: 5 });
    expect(isEventSourcedError(error)).toBe(true);
    expect(isEventSourcedError(error, ErrorCode.Persist)).toBe(false);
    expect(isEventSourcedError(new Error("plain"))).toBe(false);
    if (isEventSourcedError(error, ErrorCode.SeqNoConflict)) {
      expectTypeOf(error).toEqualTypeOf<SeqNoConflictError>();
      expect(error.actualLastSeqNo).toBe(5);
      expect(error.message).toContain("expected last seqNo 3, found 5");
    } else {
      expect.unreachable();
    }
  });
});
