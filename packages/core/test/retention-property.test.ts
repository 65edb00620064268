import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import fc from "fast-check";
import { describe, it } from "vitest";
import { checkRun, settings, steps } from "../../../test/support/retention-model.js";

describe("Retention property (in memory)", () => {
  it("random commands, snapshots and retention runs: the recovered state always equals the full fold", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(settings(3), fc.integer({ min: 0, max: 2 }), steps(40), async (s, extra, plan) => {
        const stores = {
          evtLog: new InMemoryEvtLog(),
          // The store may keep more snapshots than the policy needs: deletion follows the policy's K.
          snapshotStore: new InMemorySnapshotStore({ history: s.keepSnapshots + extra }),
        };
        await checkRun(`p${run++}`, s, plan, stores);
      }),
      { numRuns: 150 },
    );
  });
});
