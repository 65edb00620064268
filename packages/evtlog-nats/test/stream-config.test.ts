import { ConfigurationError, ConnectionError, ErrorCode } from "@eventsourced/core";
import { lossyLimits, NatsEvtLog, StreamConfigError } from "@eventsourced/evtlog-nats";
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, NatsServerProcess } from "../../../test/support/nats-server-process.js";
import { connectTestNats, deleteStream, NATS_URL, uniqueName } from "./support/nats-test-env.js";

describe("stream provisioning", () => {
  let nc: NatsConnection;
  const streams: string[] = [];

  beforeAll(async () => {
    nc = await connectTestNats();
  });
  afterAll(async () => {
    for (const stream of streams) await deleteStream(nc, stream);
    await nc.close();
  });

  async function existingStream(config: Record<string, unknown>): Promise<string> {
    const name = uniqueName("cfg");
    streams.push(name);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name, subjects: [`${name}.>`], storage: StorageType.Memory, ...config });
    return name;
  }

  it("creates a missing stream that captures <prefix>.> and cannot drop events", async () => {
    const name = uniqueName("cfg");
    streams.push(name);
    const log = await NatsEvtLog.connect({ servers: NATS_URL, stream: { name, subjectPrefix: `p_${name}` } });
    await log.close();
    const info = await (await jetstreamManager(nc)).streams.info(name);
    expect(info.config.subjects).toEqual([`p_${name}.>`]);
    expect(info.config.retention).toBe(RetentionPolicy.Limits);
    expect(info.config.storage).toBe(StorageType.File);
    expect(lossyLimits(info.config)).toEqual([]);
  });

  it("uses an existing stream that fits, and a second connect verifies rather than recreates it", async () => {
    const name = await existingStream({});
    const first = await NatsEvtLog.connect({ servers: NATS_URL, stream: { name, subjectPrefix: name } });
    await first.persist("t", "x", 0, [{ bytes: new Uint8Array([1]) }]);
    const second = await NatsEvtLog.connect({ servers: NATS_URL, stream: { name, subjectPrefix: name } });
    expect(await second.lastSeqNo("t", "x")).toBe(1);
    await Promise.all([first.close(), second.close()]);
  });

  it.each([
    ["max_age", { max_age: 3_600_000_000_000 }, /max_age/],
    ["max_msgs with discard old", { max_msgs: 1_000, discard: DiscardPolicy.Old }, /max_msgs/],
    ["max_bytes with discard old", { max_bytes: 1_000_000, discard: DiscardPolicy.Old }, /max_bytes/],
    [
      "max_msgs_per_subject",
      { max_msgs_per_subject: 10, discard: DiscardPolicy.New },
      /max_msgs_per_subject/,
    ],
    ["interest retention", { retention: RetentionPolicy.Interest }, /retention is interest/],
    ["work-queue retention", { retention: RetentionPolicy.Workqueue }, /retention is workqueue/],
  ])("refuses an existing stream with %s, unless allowLossyLimits", async (_, config, problem) => {
    const name = await existingStream(config);
    const refused = NatsEvtLog.connect({ servers: NATS_URL, stream: { name, subjectPrefix: name } });
    await expect(refused).rejects.toBeInstanceOf(StreamConfigError);
    await expect(refused).rejects.toBeInstanceOf(ConfigurationError);
    await expect(refused).rejects.toMatchObject({
      code: ErrorCode.Configuration,
      key: "stream.allowLossyLimits",
    });
    await expect(refused).rejects.toThrow(problem);
    const allowed = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name, subjectPrefix: name, allowLossyLimits: true },
    });
    await allowed.close();
  });

  it("accepts size limits with discard new: a full stream refuses writes instead of dropping events", () => {
    expect(lossyLimits({ max_msgs: 10, max_bytes: 10_000, discard: DiscardPolicy.New })).toEqual([]);
  });

  it("refuses a stream that does not capture the subject prefix, or has other storage or replicas", async () => {
    const name = await existingStream({});
    await expect(
      NatsEvtLog.connect({ servers: NATS_URL, stream: { name, subjectPrefix: "elsewhere" } }),
    ).rejects.toMatchObject({ key: "stream.subjectPrefix" });
    await expect(
      NatsEvtLog.connect({ servers: NATS_URL, stream: { name, subjectPrefix: name, storage: "file" } }),
    ).rejects.toMatchObject({ key: "stream.storage" });
    const nested = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name, subjectPrefix: `${name}.sub` },
    });
    await nested.close();
  });

  it.each([
    ["the same prefix", (taken: string) => taken],
    ["a prefix inside the other stream's subjects", (taken: string) => `${taken}.orders`],
  ])(
    "refuses a new stream whose subjects overlap another stream's (%s), naming the option and that stream",
    async (_, prefixOf) => {
      const taken = await existingStream({});
      const name = uniqueName("cfg");
      streams.push(name);
      const err = await NatsEvtLog.connect({
        servers: NATS_URL,
        stream: { name, subjectPrefix: prefixOf(taken) },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StreamConfigError);
      expect(err).not.toBeInstanceOf(ConnectionError);
      expect(err).toMatchObject({ code: ErrorCode.Configuration, key: "stream.subjectPrefix", stream: name });
      expect((err as Error).message).toContain(JSON.stringify(taken));
      expect((err as Error).message).toContain("subject prefix of its own");
    },
  );

  it("rejects invalid names and options with ConfigurationError before connecting", async () => {
    await expect(NatsEvtLog.connect({ stream: { name: "a.b" } })).rejects.toMatchObject({
      key: "stream.name",
    });
    await expect(NatsEvtLog.connect({ stream: { subjectPrefix: "a.*" } })).rejects.toMatchObject({
      key: "stream.subjectPrefix",
    });
    await expect(NatsEvtLog.connect({ stream: { subjectPrefix: "p".repeat(257) } })).rejects.toMatchObject({
      key: "stream.subjectPrefix",
    });
    await expect(NatsEvtLog.connect({ fetchBatch: 0 })).rejects.toMatchObject({ key: "fetchBatch" });
    await expect(NatsEvtLog.connect(null as never)).rejects.toMatchObject({ code: ErrorCode.Configuration });
    // A stream on _INBOX.> would store every client's replies, JetStream's own included.
    for (const subjectPrefix of ["_INBOX", "_INBOX.evts"]) {
      await expect(NatsEvtLog.connect({ stream: { subjectPrefix } })).rejects.toMatchObject({
        code: ErrorCode.Configuration,
        key: "stream.subjectPrefix",
      });
    }
    await expect(NatsEvtLog.connect({ stream: { name: "s".repeat(256) } })).rejects.toMatchObject({
      key: "stream.name",
    });
    // Node.js fires a timer of more than 2^31 - 1 ms after 1 ms: a near-infinite timeout would be a busy loop.
    await expect(NatsEvtLog.connect({ publishTimeoutMs: 3e9 })).rejects.toMatchObject({
      key: "publishTimeoutMs",
    });
  });

  it("reports a configuration the server refuses to create as StreamConfigError, not a connection failure", async () => {
    const name = uniqueName("cfg");
    const error = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name, subjectPrefix: name, replicas: 3 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamConfigError);
    expect(error).toMatchObject({ code: ErrorCode.Configuration, key: "stream" });
    expect((error as Error).message).toMatch(/replicas/);
  });

  it("never closes a connection it was given", async () => {
    const name = uniqueName("cfg");
    streams.push(name);
    const log = await NatsEvtLog.connect({ connection: nc, stream: { name, subjectPrefix: name } });
    await log.persist("t", "x", 0, [{ bytes: new Uint8Array([1]) }]);
    await log.close();
    expect(nc.isClosed()).toBe(false);
  });
});

describe("connection errors", () => {
  let noJetStream: NatsServerProcess;
  let withAuth: NatsServerProcess;

  beforeAll(async () => {
    [noJetStream, withAuth] = await Promise.all([
      NatsServerProcess.start([]),
      NatsServerProcess.start(["-js", "--user", "alice", "--pass", "s3cret-pass"]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([noJetStream?.stop(), withAuth?.stop()]);
  });

  it("reports an unreachable server as ConnectionError naming it without credentials", async () => {
    const port = await freePort();
    const err = await NatsEvtLog.connect({ servers: `nats://bob:hunter2@127.0.0.1:${port}` }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.code).toBe(ErrorCode.Connection);
    expect(err.target).toBe(`nats://127.0.0.1:${port}`);
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(`${err.message} ${err.target}`).not.toMatch(/hunter2|bob/);
  });

  it("reports refused credentials as ConnectionError without the password", async () => {
    const err = await NatsEvtLog.connect({ servers: withAuth.url, user: "alice", pass: "wrong-pass" }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toContain(`127.0.0.1:${withAuth.port}`);
    expect(err.message).not.toContain("wrong-pass");
    const ok = await NatsEvtLog.connect({ servers: withAuth.url, user: "alice", pass: "s3cret-pass" });
    await ok.close();
  });

  it("reports a server without JetStream as ConnectionError", async () => {
    const err = await NatsEvtLog.connect({ servers: noJetStream.url }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toMatch(/JetStream is not enabled/);
    expect(err.message).toContain(`127.0.0.1:${noJetStream.port}`);
  });
});
