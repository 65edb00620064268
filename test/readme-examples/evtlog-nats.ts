// The example of packages/evtlog-nats/README.md and of the NATS section of packages/snapshots/README.md,
// verbatim between the region markers (test/readme-code-blocks.test.ts checks); test/readme-examples.test.ts
// runs it.
// #region nats
import { Entity } from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { NatsSnapshotStore } from "@eventsourced/snapshots/nats";
import { account } from "./account.js"; // the entity of the repository README's quickstart

export async function depositOnNats(servers: string, name: string): Promise<number | undefined> {
  // One stream per application, each with a subject prefix of its own (the default prefix is "evts").
  const evtLog = await NatsEvtLog.connect({ servers, stream: { name, subjectPrefix: name } });
  const snapshotStore = await NatsSnapshotStore.create({ servers, bucket: `${name}-snapshots` });
  try {
    const ref = await Entity.spawn("account-1", account, { evtLog, snapshotStore, snapshotAfter: 2 });
    await ref.handleCmd({ type: "deposit", amount: 100 });
    await ref.handleCmd({ type: "deposit", amount: 50 }); // seqNo 2: a snapshot is saved after the reply
    await ref.stop(); // waits for that save
    return (await snapshotStore.load("account", "account-1"))?.seqNo;
  } finally {
    await Promise.all([evtLog.close(), snapshotStore.close()]);
  }
}
// #endregion nats
