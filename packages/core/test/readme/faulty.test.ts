// The failure-injection example of packages/core/README.md, verbatim between the region markers.
// #region faulty
import { Entity, PersistError } from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog } from "@eventsourced/core/testing";
import { expect, it } from "vitest";
import { account } from "./account.js";

it("learns from the log whether an outcome-unknown persist landed", async () => {
  const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
  const ref = await Entity.spawn("acc-1", account, { evtLog });

  evtLog.failNextPersist({ afterWrite: true }); // written, but the caller hears "outcome unknown"
  await expect(ref.handleCmd({ type: "deposit", amount: 10 })).rejects.toBeInstanceOf(PersistError);
  // The entity re-reads the log before its next command: the deposit did land.
  expect(await ref.handleCmd({ type: "balance" })).toMatchObject({ kind: "accepted", reply: 10, seqNo: 1 });
  await ref.stop();
});
// #endregion faulty
