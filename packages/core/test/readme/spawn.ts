// "Spawning and handling results" in packages/core/README.md, verbatim between the region markers;
// ../readme-example.test.ts runs it.
// #region spawn
import { Entity, isEventSourcedError } from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { account } from "./account.js";

export async function openAccount(log: (line: string) => void): Promise<void> {
  const ref = await Entity.spawn("acc-42", account, {
    evtLog: new InMemoryEvtLog(), // or PostgresEvtLog / NatsEvtLog
    snapshotStore: new InMemorySnapshotStore(),
    snapshotAfter: 100, // snapshot whenever the seqNo crosses a multiple of 100
  });

  const deposited = await ref.handleCmd({ type: "deposit", amount: 50 });
  if (deposited.kind === "accepted")
    log(`deposited: seqNo ${deposited.seqNo}, position ${deposited.position}`);

  try {
    const result = await ref.handleCmd({ type: "withdraw", amount: 80 }, { timeoutMs: 5_000 });
    if (result.kind === "accepted") log(`new balance ${result.reply}`);
    else log(`rejected: ${result.rejection.reason}, balance ${result.rejection.balance}`);
  } catch (err) {
    // Technical failures reject the promise; recognise them by code, which works for errors created by
    // any copy of @eventsourced/core (and narrows `err` to the error's class).
    if (isEventSourcedError(err, "COMMAND_TIMEOUT")) log("gave up waiting; the command had no effect");
    else if (isEventSourcedError(err, "PERSIST_FAILED") && err.outcomeUnknown) log("maybe written");
    else throw err;
  }
  await ref.stop();
}
// #endregion spawn
