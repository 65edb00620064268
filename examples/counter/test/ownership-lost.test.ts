import { type LogFields, OwnershipLostError } from "@eventsourced/core";
import { describe, expect, it } from "vitest";
import { leavingRefusalsToTheRun } from "../src/ownership-lost.js";

describe("the counter registry's logger", () => {
  it("drops only warnings about a refusal of the run's fence (the run reports it); every other passes", () => {
    const seen: [string, string, LogFields | undefined][] = [];
    const logger = leavingRefusalsToTheRun({
      debug: (m, f) => seen.push(["debug", m, f]),
      warn: (m, f) => seen.push(["warn", m, f]),
      error: (m, f) => seen.push(["error", m, f]),
    });
    const refusal = new OwnershipLostError("counter", "counter-0", "epoch 1 is superseded");
    const wrapped = new Error("cannot recover counter/counter-0", { cause: refusal });
    const other = new Error("cannot decode event 1");

    logger.warn("entity recovery failed; its next recovery backs off", { error: wrapped });
    logger.warn("entity recovery failed; its next recovery backs off", { error: refusal });
    logger.warn("entity recovery failed; its next recovery backs off", { error: other });
    logger.warn("snapshot save failed", { id: "counter-1" });
    logger.error("an entity stopped", { error: refusal });

    expect(seen.map(([level, , fields]) => [level, fields?.error ?? fields?.id])).toEqual([
      ["warn", other],
      ["warn", "counter-1"],
      ["error", refusal],
    ]);
  });
});
