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

// #region epoch-markers
import { OwnershipLostError } from "@eventsourced/core";

export async function fenceAfterATakeover(servers: string, name: string): Promise<string[]> {
  const previousOwner = await NatsEvtLog.connect({ servers, stream: { name, subjectPrefix: name } });
  const newOwner = await NatsEvtLog.connect({ servers, stream: { name, subjectPrefix: name } });
  const evt = { bytes: new TextEncoder().encode("{}") };
  try {
    await previousOwner.persist("order", "o-1", 0, [evt], { fence: { epoch: 1, owner: "node-a" } });
    // node-b took the shard over under epoch 2: it fences each entity before reading it.
    const shardLog = newOwner.fenced({ epoch: 2, owner: "node-b" });
    let seqNo = 0;
    for await (const record of shardLog.evtsById("order", "o-1", { from: 1 })) seqNo = record.seqNo;
    const late = await previousOwner
      .persist("order", "o-1", 1, [evt], { fence: { epoch: 1, owner: "node-a" } })
      .then(
        () => "written",
        (err: unknown) => (err instanceof OwnershipLostError ? "refused" : "failed"),
      );
    await shardLog.persist("order", "o-1", seqNo, [evt]);
    return [late, `new owner at seqNo ${seqNo + 1}`]; // ["refused", "new owner at seqNo 2"]
  } finally {
    await Promise.all([previousOwner.close(), newOwner.close()]);
  }
}
// #endregion epoch-markers
