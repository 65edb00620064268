import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// An application can end up with two copies of @eventsourced/core (an adapter resolving its own). Errors
// raised by one copy must be recognised by the other, by the runtime itself included: otherwise a seqNo
// conflict from the log's copy is reported as an outcome-unknown PersistError and never re-run.
// This test loads the built package (dist/, which `npm test` builds first) twice, from two directories.

type Core = typeof import("@eventsourced/core");
type Testing = typeof import("@eventsourced/core/testing");

const dist = fileURLToPath(new URL("../dist", import.meta.url));
let dir: string;
let a: Core;
let b: Core;
let bTesting: Testing;

async function loadCopy(name: string): Promise<{ core: Core; testing: Testing }> {
  const root = join(dir, name);
  // With the sources beside, as in the package: the source maps point at them.
  cpSync(dist, join(root, "dist"), { recursive: true });
  cpSync(join(dist, "../src"), join(root, "src"), { recursive: true });
  writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
  const url = (path: string) => pathToFileURL(join(root, "dist", path)).href;
  return { core: await import(url("index.js")), testing: await import(url("testing/index.js")) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "es-two-cores-"));
  a = (await loadCopy("a")).core;
  ({ core: b, testing: bTesting } = await loadCopy("b"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Two copies of core side by side", () => {
  it("are really two copies: their classes are different objects", () => {
    expect(a.SeqNoConflictError).not.toBe(b.SeqNoConflictError);
  });

  it("recognise each other's errors by code and with instanceof", () => {
    const conflict: unknown = new b.SeqNoConflictError("t", "x", 1);
    expect(a.isEventSourcedError(conflict)).toBe(true);
    expect(a.isEventSourcedError(conflict, a.ErrorCode.SeqNoConflict)).toBe(true);
    expect(conflict instanceof a.SeqNoConflictError).toBe(true);
    expect(conflict instanceof a.EventSourcedError).toBe(true);
    expect(conflict instanceof a.PersistError).toBe(false);
    expect(new Error("plain") instanceof a.EventSourcedError).toBe(false);
    expect({ code: "SEQNO_CONFLICT" } instanceof a.SeqNoConflictError).toBe(false);
  });

  it("an entity of one copy re-runs a command on a conflict raised by the other copy's log", async () => {
    const evtLog = new bTesting.FaultyEvtLog(new bTesting.InMemoryEvtLog());
    const definition = a.defineEntity({
      typeName: "tally",
      initialState: () => 0,
      handleCmd: (_state: number, cmd: { readonly add: number }) => a.emit({ add: cmd.add }),
      handleEvt: (state, evt) => state + evt.add,
    });
    const ref = await a.Entity.spawn("t1", definition, { evtLog, logger: a.silentLogger });
    await ref.handleCmd({ add: 1 });
    // Another writer appends first: the log (copy b) raises its SeqNoConflictError.
    evtLog.conflictNextPersist({ bytes: a.jsonToBytes({ add: 10 }), contentType: "application/json" });
    expect(await ref.handleCmd({ add: 100 })).toMatchObject({ kind: "accepted", seqNo: 3 });
    expect(ref.stats.conflictRetries).toBe(1);
    expect(ref.stats.persistFailures).toBe(0);
    await ref.stop();
  });
});
