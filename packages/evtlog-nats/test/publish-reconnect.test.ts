import net from "node:net";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsServerProcess } from "./support/nats-server-process.js";

// A publish whose connection is lost before its acknowledgement arrives is retried as soon as nats.js has
// reconnected, with the same Nats-Msg-Id: it is not left waiting for its timeout (here a minute, longer than
// the test may take), and it is stored once whether or not the lost attempt reached the stream. The log
// talks to a private server through a proxy that can swallow either direction and cut the connection.

const encoder = new TextEncoder();

/** A TCP proxy to `port`; while `drop` names a direction, bytes that way are swallowed. */
class CuttingProxy {
  drop: "none" | "toServer" | "toClient" = "none";
  readonly #sockets = new Set<net.Socket>();
  readonly #server: net.Server;

  constructor(port: number) {
    this.#server = net.createServer((client) => {
      const server = net.connect(port, "127.0.0.1");
      for (const socket of [client, server]) {
        this.#sockets.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => {
          this.#sockets.delete(socket);
          client.destroy();
          server.destroy();
        });
      }
      client.on("data", (d) => {
        if (this.drop === "toServer") return;
        server.write(d);
      });
      server.on("data", (d) => this.drop === "toClient" || client.write(d));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `nats://127.0.0.1:${(this.#server.address() as net.AddressInfo).port}`;
  }

  /** Cuts every connection (the client sees its socket close and reconnects) and stops dropping. */
  cut(): void {
    this.drop = "none";
    for (const socket of this.#sockets) socket.destroy();
  }

  close(): void {
    this.cut();
    this.#server.close();
  }
}

describe("a persist whose connection is lost before the acknowledgement", () => {
  let server: NatsServerProcess;
  let proxy: CuttingProxy;
  let log: NatsEvtLog;

  beforeAll(async () => {
    server = await NatsServerProcess.start(["-js"]);
    proxy = new CuttingProxy(server.port);
    log = await NatsEvtLog.connect({
      servers: await proxy.listen(),
      stream: { name: "lost", subjectPrefix: "lost" },
      publishTimeoutMs: 60_000,
    });
  });
  afterAll(async () => {
    await log?.close().catch(() => {});
    proxy?.close();
    await server?.stop();
  });

  async function storedMessages(): Promise<number> {
    const nc = await connect({ servers: server.url });
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
    proxy.drop = "toClient";
    // The log remembers the entity's last message, so the persist publishes at once.
    const persisted = log.persist(type, "a", 1, [{ bytes: encoder.encode("second") }]);
    // The publish reaches the server, which stores it; its acknowledgement is swallowed.
    const deadline = Date.now() + 10_000;
    while ((await storedMessages()) === before) {
      if (Date.now() > deadline) throw new Error("the publish never reached the stream");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    proxy.cut();
    expect((await persisted).seqNo).toBe(2);
    expect(await bodies(type, "a")).toEqual(["first", "second"]);
    expect(await storedMessages()).toBe(before + 1);
  }, 30_000);

  it("is retried on the new connection and stored once when the lost attempt never arrived", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "b", 0, [{ bytes: encoder.encode("first") }]);
    const before = await storedMessages();
    proxy.drop = "toServer";
    const persisted = log.persist(type, "b", 1, [{ bytes: encoder.encode("second") }]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await storedMessages()).toBe(before);
    proxy.cut();
    expect((await persisted).seqNo).toBe(2);
    expect(await bodies(type, "b")).toEqual(["first", "second"]);
    expect(await storedMessages()).toBe(before + 1);
  }, 30_000);
});
