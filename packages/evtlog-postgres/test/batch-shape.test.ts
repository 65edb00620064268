import { describe, expect, it } from "vitest";
import { batchShape } from "../src/batch-assembly.js";
import type { PendingPersist } from "../src/pending-persist.js";

const evt = { bytes: new Uint8Array([1]) };
const persist = (expected: number, events = 1) =>
  ({
    type: "t",
    id: `e${expected}`,
    expected,
    evts: Array.from({ length: events }, () => evt),
  }) as unknown as PendingPersist;

/** Which statement writes a batch: the most specific one whose assumptions every persist meets. */
describe("batchShape", () => {
  it("one persist of one event: the one-event statement", () => {
    expect(batchShape([persist(3)]).kind).toBe("one");
  });
  it("one-event persists that all advance existing entities: the advances statement", () => {
    expect(batchShape([persist(1), persist(7)]).kind).toBe("advances");
  });
  it("one creation among them: the single-events statement", () => {
    expect(batchShape([persist(1), persist(0)]).kind).toBe("singles");
  });
  it("a persist of several events: the general statement", () => {
    expect(batchShape([persist(1), persist(2, 2)]).kind).toBe("general");
  });
});
