import { expect } from "vitest";
import type { RunReport } from "./harness.js";

/** The safety invariants every nemesis run keeps: nothing lost, doubled, overlapping, stale or wrongly refused. */
export function expectSafe(report: RunReport): void {
  expect(report.exactlyOnce).toEqual([]);
  expect(report.foldMismatches).toEqual([]);
  expect(report.overlaps).toEqual([]);
  expect(report.supersededEpochs).toEqual([]);
  expect(report.tally.staleReads).toBe(0);
  expect(report.tally.wrongRejections).toBe(0);
}
