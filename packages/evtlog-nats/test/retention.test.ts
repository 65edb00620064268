import { ConfigurationError, SeqNoConflictError } from "@eventsourced/core";
import { encodeIdToken, NatsEvtLog } from "@eventsourced/evtlog-nats";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats, deleteStream, NATS_URL, uniqueName } from "./support/nats-test-env.js";

// The keep-one rule: on nats-server 2.9 purging every message of a subject resets its last subject
// sequence to 0, so a publish expecting 0 (a brand-new entity) would be accepted and the entity's seqNos
// would start over. Retention therefore always keeps the entity's last message.

const evt = (text: string) => ({ bytes: new TextEncoder().encode(text) });

describe("NatsEvtLog retention", () => {
  let nc: NatsConnection;
  let log: NatsEvtLog;
  const stream = uniqueName("retention");
  const subjectOf = (type: string, id: string) => `${stream}.${type}.${encodeIdToken(id)}`;

  beforeAll(async () => {
    nc = await connectTestNats();
    log = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name: stream, subjectPrefix: stream, storage: "memory" },
    });
  });
  afterAll(async () => {
    await log?.close();
    await deleteStream(nc, stream);
    await deleteStream(nc, `${stream}_deny`);
    await nc?.close();
  });

  /** A raw publish to the entity's subject expecting the given last subject sequence. */
  async function rawPublishExpecting(subject: string, expected: number): Promise<"accepted" | "refused"> {
    const h = headers();
    h.set("Nats-Expected-Last-Subject-Sequence", String(expected));
    try {
      await jetstream(nc).publish(subject, new Uint8Array([0]), { headers: h });
      return "accepted";
    } catch {
      return "refused";
    }
  }

  it("why the rule exists: after a raw purge of all of a subject's messages, a publish expecting 0 is accepted", async () => {
    const subject = `${stream}.raw.trap`;
    const js = jetstream(nc);
    for (let i = 0; i < 3; i++) await js.publish(subject, new Uint8Array([i]));
    await (await jetstreamManager(nc)).streams.purge(stream, { filter: subject });
    expect(await rawPublishExpecting(subject, 0)).toBe("accepted");
  });

  it("deleting everything keeps the last message: the subject never looks new, a persist expecting 0 conflicts", async () => {
    for (let i = 0; i < 4; i++) await log.persist("keep", "one", i, [evt(`${i + 1}`)]);
    const result = await log.deleteEvts("keep", "one", 4);
    expect(result).toEqual({ deletedTo: 3, removed: 3 });
    const info = await (await jetstreamManager(nc)).streams.info(stream, {
      subjects_filter: subjectOf("keep", "one"),
    });
    expect(info.state.subjects?.[subjectOf("keep", "one")]).toBe(1);
    expect(await rawPublishExpecting(subjectOf("keep", "one"), 0)).toBe("refused");
    await expect(log.persist("keep", "one", 0, [evt("again")])).rejects.toBeInstanceOf(SeqNoConflictError);
    expect((await log.persist("keep", "one", 4, [evt("5")])).seqNo).toBe(5);
  });

  it("keeps an entity's only message even when it is the stream's first (a purge up to sequence 1 has no bound)", async () => {
    const fresh = uniqueName("retention_first");
    const first = await NatsEvtLog.connect({
      connection: nc,
      stream: { name: fresh, subjectPrefix: fresh, storage: "memory" },
    });
    try {
      await first.persist("t", "only", 0, [evt("1"), evt("2")]);
      await first.persist("t", "other", 0, [evt("x")]);
      expect(await first.deleteEvts("t", "only", 2)).toEqual({ deletedTo: 0, removed: 0 });
      expect(await first.lastSeqNo("t", "only")).toBe(2);
      await expect(first.persist("t", "only", 0, [evt("again")])).rejects.toBeInstanceOf(SeqNoConflictError);
      // A part of a history that was deleted already: the message holding it is gone, nothing else goes.
      await first.persist("t", "only", 2, [evt("3")]);
      await first.persist("t", "only", 3, [evt("4")]);
      expect(await first.deleteEvts("t", "only", 3)).toEqual({ deletedTo: 3, removed: 2 });
      expect(await first.deleteEvts("t", "only", 1)).toEqual({ deletedTo: 3, removed: 0 });
      expect(await first.lastSeqNo("t", "only")).toBe(4);
    } finally {
      await first.close();
      await deleteStream(nc, fresh);
    }
  });

  it("purges whole messages only: a multi-event message that is partly asked for stays", async () => {
    await log.persist("whole", "m", 0, [evt("1"), evt("2"), evt("3")]);
    await log.persist("whole", "m", 3, [evt("4"), evt("5")]);
    await log.persist("whole", "m", 5, [evt("6")]);
    expect(await log.deleteEvts("whole", "m", 4)).toEqual({ deletedTo: 3, removed: 1 });
    expect(await log.deleteEvts("whole", "m", 5)).toEqual({ deletedTo: 5, removed: 1 });
  });

  it("a reset purges the last message too, so that the entity starts over at seqNo 1", async () => {
    await log.persist("reset", "r", 0, [evt("1"), evt("2")]);
    await log.resetEntity("reset", "r", 2);
    expect(await log.lastSeqNo("reset", "r")).toBe(0);
    expect((await log.persist("reset", "r", 0, [evt("new")])).seqNo).toBe(1);
  });

  it("refuses to delete on a stream that denies purges, with a ConfigurationError", async () => {
    const denyStream = `${stream}_deny`;
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: denyStream,
      subjects: [`${denyStream}.>`],
      deny_purge: true,
      storage: StorageType.Memory,
    });
    const denied = await NatsEvtLog.connect({
      connection: nc,
      stream: { name: denyStream, subjectPrefix: denyStream },
    });
    await denied.persist("t", "x", 0, [evt("1")]);
    await denied.persist("t", "x", 1, [evt("2")]);
    await expect(denied.deleteEvts("t", "x", 1)).rejects.toBeInstanceOf(ConfigurationError);
    expect(await denied.lastSeqNo("t", "x")).toBe(2);
    await denied.close();
  });
});
