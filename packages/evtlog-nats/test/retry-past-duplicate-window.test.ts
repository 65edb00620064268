import { SeqNoConflictError } from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxiedNats } from "../../../test/support/proxied-nats.js";
import { until } from "../../../test/support/until.js";

// A retry carries the lost attempt's Nats-Msg-Id, so the stream answers "duplicate" if that attempt was
// stored: but only within the stream's duplicate window. Past it the stored attempt is the message the
// retry's expected sequence no longer matches, and the stream answers "wrong last sequence". That answer is
// not another writer's conflict: reported as one, the entity would run the command again on a state that
// already holds its events, and apply it twice. The stream here has a 100 ms window (a stream the operator
// created with a short one; or any retry later than the default 2 minutes).

const encoder = new TextEncoder();
const STREAM = "window";

describe("a lost attempt that was stored, retried after the stream's duplicate window", () => {
  let nats: ProxiedNats;
  let admin: NatsConnection;
  let log: NatsEvtLog;

  beforeAll(async () => {
    nats = await ProxiedNats.start();
    admin = await connect({ servers: nats.server.url });
    await (await jetstreamManager(admin)).streams.add({
      name: STREAM,
      subjects: [`${STREAM}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      allow_direct: true,
      duplicate_window: 100_000_000, // ns
    });
    log = await NatsEvtLog.connect({
      servers: nats.servers,
      stream: { name: STREAM, subjectPrefix: STREAM },
      publishTimeoutMs: 60_000,
    });
  });
  afterAll(async () => {
    await log?.close().catch(() => {});
    await admin?.close();
    await nats?.stop();
  });

  const storedMessages = async () =>
    (await (await jetstreamManager(admin)).streams.info(STREAM)).state.messages;

  it("succeeds with the stored attempt's position, stored once, not as a conflict", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "a", 0, [{ bytes: encoder.encode("first") }]);
    const before = await storedMessages();
    nats.proxy.swallow = "toClient";
    const persisted = log.persist(type, "a", 1, [{ bytes: encoder.encode("second") }]);
    // The publish reaches the server, which stores it; its acknowledgement is swallowed.
    await until(async () => (await storedMessages()) !== before, "the publish reached the stream");
    // Well past the window: the server no longer knows the message id.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    nats.proxy.heal();
    nats.proxy.cut();
    const result = await persisted.catch((err: unknown) => err);
    expect(result).toMatchObject({ seqNo: 2 });
    expect(await storedMessages()).toBe(before + 1);
    const bodies: string[] = [];
    for await (const record of log.evtsById(type, "a", { from: 1 }))
      bodies.push(new TextDecoder().decode(record.bytes));
    expect(bodies).toEqual(["first", "second"]);
  }, 30_000);

  it("is still a conflict when another writer's message is in the way and the lost attempt never arrived", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "b", 0, [{ bytes: encoder.encode("first") }]);
    const other = await NatsEvtLog.connect({
      servers: nats.server.url,
      stream: { name: STREAM, subjectPrefix: STREAM },
    });
    try {
      nats.proxy.swallow = "toServer";
      const persisted = log
        .persist(type, "b", 1, [{ bytes: encoder.encode("lost") }])
        .catch((err: unknown) => err);
      await other.persist(type, "b", 1, [{ bytes: encoder.encode("other's") }]);
      nats.proxy.heal();
      nats.proxy.cut();
      expect(await persisted).toBeInstanceOf(SeqNoConflictError);
      const bodies: string[] = [];
      for await (const record of other.evtsById(type, "b", { from: 1 }))
        bodies.push(new TextDecoder().decode(record.bytes));
      expect(bodies).toEqual(["first", "other's"]);
    } finally {
      await other.close();
    }
  }, 30_000);
});
