import { uniqueTypeName } from "@eventsourced/core/testing";
import { Header, NatsEvtLog } from "@eventsourced/evtlog-nats";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { NatsServerProcess } from "../../../test/support/nats-server-process.js";

// An epoch marker whose connection is lost before its acknowledgement goes through the publish multiplexer
// like a persist: it fails at once when nats.js reconnects and is retried with the same Nats-Msg-Id, instead
// of waiting out publishTimeoutMs (here a minute, longer than the test may take). The fenced persist behind
// it then succeeds once, and the entity holds one marker whether or not the lost attempt was stored.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const STREAM = "markerlost";

describe("an epoch marker whose connection is lost before the acknowledgement", () => {
  let server: NatsServerProcess;
  let proxy: FaultProxy;
  let log: NatsEvtLog;

  beforeAll(async () => {
    server = await NatsServerProcess.start(["-js"]);
    proxy = await FaultProxy.inFrontOf(server.url, 4222);
    log = await NatsEvtLog.connect({
      servers: proxy.url,
      stream: { name: STREAM, subjectPrefix: STREAM },
      publishTimeoutMs: 60_000,
    });
  });
  afterAll(async () => {
    await log?.close().catch(() => {});
    proxy?.close();
    await server?.stop();
  });

  /** Every message of the stream (read on a connection of its own): markers and bodies. */
  async function storedMessages(): Promise<{ markers: number; messages: number }> {
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const { state } = await jsm.streams.info(STREAM);
      let markers = 0;
      for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
        const msg = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
        if (msg?.header?.get(Header.Marker)) markers++;
      }
      return { markers, messages: state.messages };
    } finally {
      await nc.close();
    }
  }

  async function bodies(type: string, id: string): Promise<string[]> {
    const out: string[] = [];
    for await (const record of log.evtsById(type, id, { from: 1 })) out.push(decoder.decode(record.bytes));
    return out;
  }

  it("is retried on the new connection when the lost marker was stored: one marker, the persist once", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "a", 0, [{ bytes: encoder.encode("first") }]);
    const before = await storedMessages();
    const view = log.fenced({ epoch: 7, owner: "node-a" });
    // The marker reaches the stream, which stores it; its acknowledgement (and all after it) is swallowed.
    proxy.swallowToClientAfter = Header.Marker;
    const persisted = view.persist(type, "a", 1, [{ bytes: encoder.encode("fenced") }]);
    const deadline = Date.now() + 10_000;
    while ((await storedMessages()).messages === before.messages) {
      if (Date.now() > deadline) throw new Error("the marker never reached the stream");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const cutAt = Date.now();
    proxy.heal();
    proxy.cut();
    expect((await persisted).seqNo).toBe(2);
    console.log(`the fenced persist settled ${Date.now() - cutAt} ms after the cut`);
    expect(await bodies(type, "a")).toEqual(["first", "fenced"]);
    expect(await storedMessages()).toEqual({
      markers: before.markers + 1,
      messages: before.messages + 2,
    });
  }, 30_000);

  it("is retried on the new connection when the lost marker never arrived: one marker, the persist once", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "b", 0, [{ bytes: encoder.encode("first") }]);
    const before = await storedMessages();
    const view = log.fenced({ epoch: 8, owner: "node-a" });
    proxy.swallowToServerContaining = Header.Marker;
    const persisted = view.persist(type, "b", 1, [{ bytes: encoder.encode("fenced") }]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await storedMessages()).messages).toBe(before.messages);
    const cutAt = Date.now();
    proxy.heal();
    proxy.cut();
    expect((await persisted).seqNo).toBe(2);
    console.log(`the fenced persist settled ${Date.now() - cutAt} ms after the cut`);
    expect(await bodies(type, "b")).toEqual(["first", "fenced"]);
    expect(await storedMessages()).toEqual({
      markers: before.markers + 1,
      messages: before.messages + 2,
    });
  }, 30_000);
});
