import { PersistError } from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { NatsServerProcess } from "../../../test/support/nats-server-process.js";
import { describeCloseDuringOutage } from "./support/close-during-outage.js";

// A service stopping (SIGTERM) while its NATS server is away must exit: `close()` on a connection the log
// opened used to drain it, which waits for nats.js to reconnect (forever, with unlimited reconnects). Now it
// waits at most `closeTimeoutMs`, then closes the connection hard. A persist acknowledged before the close
// stays stored; one still waiting for its acknowledgement fails with an unknown outcome.

const encoder = new TextEncoder();

describeCloseDuringOutage("a NATS event log", async (servers) => {
  const log = await NatsEvtLog.connect({
    servers,
    stream: { name: "away", subjectPrefix: "away" },
    closeTimeoutMs: 500,
  });
  await log.persist(uniqueTypeName(), "a", 0, [{ bytes: encoder.encode("acked") }]);
  return log;
});

describe("closing a NATS event log while a persist waits for its acknowledgement", () => {
  let server: NatsServerProcess | undefined;
  let proxy: FaultProxy | undefined;
  let log: NatsEvtLog | undefined;

  afterEach(async () => {
    await log?.close().catch(() => {});
    proxy?.close();
    await server?.stop();
    log = undefined;
    proxy = undefined;
    server = undefined;
  });

  async function storedMessages(s: NatsServerProcess, stream: string): Promise<number> {
    const nc = await connect({ servers: s.url });
    try {
      return (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
    } finally {
      await nc.close();
    }
  }

  it("fails a persist still waiting for its acknowledgement with an unknown outcome", async () => {
    server = await NatsServerProcess.start(["-js"]);
    proxy = await FaultProxy.inFrontOf(server.url, 4222);
    log = await NatsEvtLog.connect({
      servers: proxy.url,
      stream: { name: "away", subjectPrefix: "away" },
      publishTimeoutMs: 60_000,
      closeTimeoutMs: 500,
    });
    const type = uniqueTypeName();
    await log.persist(type, "b", 0, [{ bytes: encoder.encode("acked") }]);
    // The next publish reaches the stream; its acknowledgement is swallowed, then the server goes away.
    proxy.swallow = "toClient";
    const persisted = log
      .persist(type, "b", 1, [{ bytes: encoder.encode("unacked") }])
      .catch((err: unknown) => err);
    const deadline = Date.now() + 10_000;
    while ((await storedMessages(server, "away")) < 2) {
      if (Date.now() > deadline) throw new Error("the publish never reached the stream");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await server.kill();
    proxy.heal();
    proxy.cut();
    const started = Date.now();
    await log.close();
    console.log(`close() with a persist waiting took ${Date.now() - started} ms (closeTimeoutMs 500)`);
    const err = await persisted;
    expect(err).toBeInstanceOf(PersistError);
    expect((err as PersistError).outcomeUnknown).toBe(true);
    expect((err as PersistError).message).toMatch(/closed before the publish was acknowledged/);
    // Both stay stored: the one acknowledged before close() and the one that went out unacknowledged.
    await server.restart();
    expect(await storedMessages(server, "away")).toBe(2);
  }, 30_000);
});
