import { uniqueTypeName } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxiedNats } from "../../../test/support/proxied-nats.js";
import { until } from "../../../test/support/until.js";

// A publish whose connection is lost before its acknowledgement arrives is retried as soon as nats.js has
// reconnected, with the same Nats-Msg-Id: it is not left waiting for its timeout (here a minute, longer than
// the test may take), and it is stored once whether or not the lost attempt reached the stream. The log
// talks to a private server through a proxy that can swallow either direction and cut the connection.

const encoder = new TextEncoder();

describe("a persist whose connection is lost before the acknowledgement", () => {
  let nats: ProxiedNats;
  let log: NatsEvtLog;

  beforeAll(async () => {
    nats = await ProxiedNats.start();
    log = await NatsEvtLog.connect({
      servers: nats.servers,
      stream: { name: "lost", subjectPrefix: "lost" },
      publishTimeoutMs: 60_000,
    });
  });
  afterAll(async () => {
    await log?.close().catch(() => {});
    await nats?.stop();
  });

  async function storedMessages(): Promise<number> {
    const nc = await connect({ servers: nats.server.url });
    try {
      return (await (await jetstreamManager(nc)).streams.info("lost")).state.messages;
    } finally {
      await nc.close();
    }
  }

  async function bodies(type: string, id: string): Promise<string[]> {
    const out: string[] = [];
    for await (const record of log.evtsById(type, id, { from: 1 }))
      out.push(new TextDecoder().decode(record.bytes));
    return out;
  }

  it("is retried on the new connection and stored once when the lost attempt was stored", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "a", 0, [{ bytes: encoder.encode("first") }]);
    const before = await storedMessages();
    nats.proxy.swallow = "toClient";
    // The log remembers the entity's last message, so the persist publishes at once.
    const persisted = log.persist(type, "a", 1, [{ bytes: encoder.encode("second") }]);
    // The publish reaches the server, which stores it; its acknowledgement is swallowed.
    await until(async () => (await storedMessages()) !== before, "the publish reached the stream");
    nats.proxy.heal();
    nats.proxy.cut();
    expect((await persisted).seqNo).toBe(2);
    expect(await bodies(type, "a")).toEqual(["first", "second"]);
    expect(await storedMessages()).toBe(before + 1);
  }, 30_000);

  it("is retried on the new connection and stored once when the lost attempt never arrived", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "b", 0, [{ bytes: encoder.encode("first") }]);
    const before = await storedMessages();
    nats.proxy.swallow = "toServer";
    const persisted = log.persist(type, "b", 1, [{ bytes: encoder.encode("second") }]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await storedMessages()).toBe(before);
    nats.proxy.heal();
    nats.proxy.cut();
    expect((await persisted).seqNo).toBe(2);
    expect(await bodies(type, "b")).toEqual(["first", "second"]);
    expect(await storedMessages()).toBe(before + 1);
  }, 30_000);
});
