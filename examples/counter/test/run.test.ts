import {
  type EvtLog,
  type NewEvt,
  OwnershipLostError,
  PersistError,
  type Persisted,
} from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { reportLines } from "../src/report.js";
import { type RunCountersOptions, runCounters } from "../src/run.js";
import { netChangeOf } from "../src/workload.js";

function options(evtLog: EvtLog, overrides: Partial<RunCountersOptions> = {}): RunCountersOptions {
  return {
    evtLog,
    snapshotStore: new InMemorySnapshotStore(),
    entityCount: 3,
    evtCount: 11,
    snapshotAfter: 4,
    binarizer: "protobuf",
    mailboxSize: 8,
    verify: true,
    ...overrides,
  };
}

/** An in-memory log whose `n`-th persist (from 1) fails, writing nothing, with what `failure` returns, if anything. */
function failingLog(failure: (n: number, type: string, id: string) => Error | undefined): InMemoryEvtLog {
  let persists = 0;
  return new (class extends InMemoryEvtLog {
    override async persist(
      type: string,
      id: string,
      expected: number,
      evts: readonly NewEvt[],
    ): Promise<Persisted> {
      const error = failure(++persists, type, id);
      if (error !== undefined) throw error;
      return super.persist(type, id, expected, evts);
    }
  })();
}

describe("the counter run", () => {
  it("sends every command, recovers every counter and verifies its value", async () => {
    const evtLog = new InMemoryEvtLog();
    const summary = await runCounters(options(evtLog));
    expect(summary).toMatchObject({
      commandsPlanned: 33,
      commands: 33,
      rejected: 0,
      verified: true,
      mismatches: [],
      interrupted: false,
      error: undefined,
    });
    expect(summary.p50Ms).toBeGreaterThanOrEqual(0);
    expect(await evtLog.lastSeqNo("counter", "counter-2")).toBe(11);
    // Snapshots at seqNo 4 and 8 leave 3 events per counter to replay.
    expect(summary.evtsReplayed).toBe(9);
  });

  it("continues from the recovered values on a second run", async () => {
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    await runCounters(options(evtLog, { snapshotStore, binarizer: "json" }));
    const second = await runCounters(options(evtLog, { snapshotStore, binarizer: "json" }));
    expect(second.startTotal).toBe(3n * netChangeOf(11));
    expect(second.verified).toBe(true);
    expect(await evtLog.lastSeqNo("counter", "counter-0")).toBe(22);
  });

  it("runs more counters than its cap: the least recently used are passivated and recovered again", async () => {
    const evtLog = new InMemoryEvtLog();
    const summary = await runCounters(options(evtLog, { entityCount: 25, maxActive: 4 }));
    expect(summary).toMatchObject({ commands: 25 * 11, verified: true, maxActive: 4 });
    // The start and the recovery passivate 21 each; the write phase at least 21 more.
    expect(summary.passivations).toBeGreaterThanOrEqual(3 * 21);
    expect(await evtLog.lastSeqNo("counter", "counter-24")).toBe(11);
    expect(reportLines(summary)).toContain(
      `passivations: ${summary.passivations} (at most 4 counters resident at once)`,
    );
  });

  it("stops sending when asked and still verifies what was acknowledged", async () => {
    const stop = new AbortController();
    let seen = 0;
    const summary = await runCounters(
      options(new InMemoryEvtLog(), {
        stop: stop.signal,
        evtCount: 1000,
        progress: {
          start: () => {},
          update: (done) => {
            seen = done;
            if (done === 50) stop.abort();
          },
          finish: () => {},
        },
      }),
    );
    expect(summary.interrupted).toBe(true);
    expect(summary.commands).toBe(seen);
    expect(summary.commands).toBeLessThan(3000);
    expect(summary.verified).toBe(true);
  });

  it("ends the write phase on a persist failure and reports it", async () => {
    const failing = failingLog((n) => (n === 10 ? new PersistError("disk full", false) : undefined));
    const summary = await runCounters(options(failing, { evtCount: 100 }));
    expect(summary.error).toBeInstanceOf(PersistError);
    expect(summary.commands).toBeLessThan(300);
    expect(summary.verified).toBeUndefined();
  });

  it("stops when its writes are refused for a lost lease, and does not verify another run's counters", async () => {
    // A fenced log whose tenure ends after 10 persists: it refuses every later one, writing nothing.
    const evtLog = failingLog((n, type, id) =>
      n > 10 ? new OwnershipLostError(type, id, "the tenure is over") : undefined,
    );
    const summary = await runCounters(options(evtLog, { evtCount: 100 }));
    expect(summary).toMatchObject({ leaseLost: true, verified: undefined, interrupted: false });
    expect(summary.error).toBeInstanceOf(OwnershipLostError);
    // Acknowledged: exactly the commands whose events were written.
    const written = await Promise.all([0, 1, 2].map((i) => evtLog.lastSeqNo("counter", `counter-${i}`)));
    expect(summary.commands).toBe(written.reduce((a, b) => a + b, 0));
    expect(reportLines(summary)).toContain(
      "not verified: the run's lease on the store ended, so the counters may be another run's by now",
    );
  });

  it("stops sending and skips the verification when told that its lease ended", async () => {
    const leaseLost = new AbortController();
    const summary = await runCounters(
      options(new InMemoryEvtLog(), {
        leaseLost: leaseLost.signal,
        evtCount: 1000,
        progress: {
          start: () => {},
          update: (done) => {
            if (done === 50) leaseLost.abort();
          },
          finish: () => {},
        },
      }),
    );
    expect(summary).toMatchObject({ leaseLost: true, verified: undefined, error: undefined });
    expect(summary.commands).toBeLessThan(3000);
  });
});
