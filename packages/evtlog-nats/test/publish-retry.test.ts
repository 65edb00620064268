import { PersistError } from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsServerProcess } from "../../../test/support/nats-server-process.js";

// A publish whose acknowledgement does not come in time is retried with the same Nats-Msg-Id. Freezing
// the server (SIGSTOP) makes the first attempt time out although the server stores it once it runs again:
// the retry must then be acknowledged as a duplicate of it, not stored a second time, and not be mistaken
// for another writer's conflicting message.

const encoder = new TextEncoder();

describe("a persist retried after an unanswered publish", () => {
  let server: NatsServerProcess;
  let log: NatsEvtLog;

  beforeAll(async () => {
    server = await NatsServerProcess.start(["-js"]);
  });
  afterAll(async () => {
    server?.resume();
    await log?.close().catch(() => {});
    await server?.stop();
  });

  it("is stored exactly once and succeeds", async () => {
    log = await NatsEvtLog.connect({
      servers: server.url,
      stream: { name: "retry", subjectPrefix: "retry" },
      publishTimeoutMs: 300,
      publishAttempts: 10,
    });
    const type = uniqueTypeName();
    await log.persist(type, "x", 0, [{ bytes: encoder.encode("first") }]);
    await server.pause();
    // The log remembers the entity's last message, so the persist publishes at once, into a frozen server.
    const persisted = log.persist(type, "x", 1, [{ bytes: encoder.encode("second") }]);
    // Long enough for the first attempts to time out (300 ms each) while the server is frozen.
    await new Promise((resolve) => setTimeout(resolve, 900));
    server.resume();
    expect((await persisted).seqNo).toBe(2);

    const records = [];
    for await (const record of log.evtsById(type, "x", { from: 1 })) records.push(record);
    expect(records.map((r) => new TextDecoder().decode(r.bytes))).toEqual(["first", "second"]);
    const nc = await connect({ servers: server.url });
    const info = await (await jetstreamManager(nc)).streams.info("retry");
    expect(info.state.messages).toBe(2);
    await nc.close();
  });

  it("reports an unknown outcome when no attempt is answered", async () => {
    const type = uniqueTypeName();
    const impatient = await NatsEvtLog.connect({
      servers: server.url,
      stream: { name: "retry", subjectPrefix: "retry" },
      publishTimeoutMs: 200,
      publishAttempts: 2,
    });
    await impatient.persist(type, "y", 0, [{ bytes: encoder.encode("first") }]);
    await server.pause();
    const err = await impatient.persist(type, "y", 1, [{ bytes: encoder.encode("lost?") }]).catch((e) => e);
    server.resume();
    expect(err).toBeInstanceOf(PersistError);
    expect(err.outcomeUnknown).toBe(true);
    // The truth is in the log: the frozen server stored the message when it woke up, once.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await impatient.lastSeqNo(type, "y")).toBe(2);
    await impatient.close();
  });
});
