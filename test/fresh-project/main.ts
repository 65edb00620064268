// Runs in a temporary project that installed this repository's packed tarballs and nothing else of it (no
// vitest, no workspace links): scripts/check-fresh-project.mjs copies it there beside the README quickstart,
// compiles both with strict settings against the installed type declarations, and runs the result.
import { strict as assert } from "node:assert";
import { EventSourcedError, isEventSourcedError, SeqNoConflictError } from "@eventsourced/core";
import { given, InMemoryEvtLog } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { startEmbeddedPostgres } from "@eventsourced/evtlog-postgres/embedded";
import { NatsSnapshotStore } from "@eventsourced/snapshots/nats";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import { account, QUICKSTART_OUTPUT, quickstart } from "../readme-quickstart.js";

// The README quickstart, as a user pastes it.
assert.deepEqual(await quickstart(), QUICKSTART_OUTPUT);

// The test kit works without a test framework: given/when/then asserts with node:assert.
(await given(account, [{ type: "deposited", amount: 10 }]).when({ type: "withdraw", amount: 4 }))
  .thenEvents([{ type: "withdrawn", amount: 4 }])
  .thenReply(6);

// A conflict raised by the in-memory log is an error of the one copy of core the app has.
const log = new InMemoryEvtLog();
await log.persist("account", "a-1", 0, [{ bytes: new Uint8Array([1]) }]);
const conflict = await log.persist("account", "a-1", 0, [{ bytes: new Uint8Array([2]) }]).then(
  () => assert.fail("a second first event must conflict"),
  (err: unknown) => err,
);
assert.ok(conflict instanceof SeqNoConflictError && conflict instanceof EventSourcedError);
assert.ok(isEventSourcedError(conflict, "SEQNO_CONFLICT"));

// The log and snapshot adapters load with only the dependencies their packages declare (plus the drivers
// this app installed). Every public subpath of every package is imported by the generated
// entry-points.ts, and test/fresh-project/service.ts runs the wave-2 packages against the real servers.
for (const loaded of [
  PostgresEvtLog,
  startEmbeddedPostgres,
  NatsEvtLog,
  PostgresSnapshotStore,
  NatsSnapshotStore,
]) {
  assert.equal(typeof loaded, "function");
}

// The contract suites are the one part that needs vitest, behind their own subpath.
await assert.rejects(import("@eventsourced/core/testing/vitest"), (err: NodeJS.ErrnoException) => {
  assert.equal(err.code, "ERR_MODULE_NOT_FOUND");
  assert.match(err.message, /vitest/);
  return true;
});

console.log("fresh project: quickstart, ./testing without vitest and every entry point: ok");
