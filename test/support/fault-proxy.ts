import net from "node:net";

/** Which bytes a {@link FaultProxy} swallows: none, both ways, or one direction only. */
export type Swallow = "none" | "both" | "toServer" | "toClient";

/**
 * A loopback TCP proxy for network-fault tests. Every accepted client gets its own connection to the
 * target. While {@link swallow} names a direction, each chunk going that way is dropped (never buffered,
 * never sent later) and nothing is closed: a network partition as the client sees it (no reset, no answer).
 * When either socket of a pair closes, both are destroyed. A chunk is dropped or passed whole as it arrives,
 * so switching back to `"none"` while a message is half through leaves that connection's byte stream cut
 * mid-message: tests that heal a partition rely on the code under test discarding such connections.
 * Unlike a real network, which delivers late what it held back, a connection opened while swallowing loses
 * its first bytes (a PostgreSQL startup message) for good: it stays connecting after the heal until a
 * connect timeout or the server gives up on it, so close the proxy before ending a pool that may hold one.
 */
export class FaultProxy {
  /** The direction whose bytes are swallowed now. */
  swallow: Swallow = "none";
  /** While set, chunks to the server that contain this text are swallowed (e.g. one subject's publishes). */
  swallowToServerContaining: string | undefined;
  /**
   * While set, once a chunk to the server contains this text (e.g. a header name), every byte to the client
   * is swallowed (`swallow` becomes `"toClient"`): the answer to that message, and everything after it,
   * never arrives.
   */
  swallowToClientAfter: string | undefined;
  /** Connections accepted so far. */
  accepted = 0;
  readonly #sockets = new Set<net.Socket>();
  readonly #server: net.Server;
  #url = "";

  private constructor(targetPort: number, targetHost: string) {
    this.#server = net.createServer((client) => {
      this.accepted++;
      const server = net.connect(targetPort, targetHost);
      for (const socket of [client, server]) {
        this.#sockets.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => {
          this.#sockets.delete(socket);
          client.destroy();
          server.destroy();
        });
      }
      client.on("data", (d: Buffer) => {
        if (this.swallowToClientAfter !== undefined && d.includes(this.swallowToClientAfter)) {
          this.swallow = "toClient";
        }
        if (this.swallow === "both" || this.swallow === "toServer") return;
        if (this.swallowToServerContaining !== undefined && d.includes(this.swallowToServerContaining))
          return;
        server.write(d);
      });
      server.on("data", (d: Buffer) => {
        if (this.swallow === "both" || this.swallow === "toClient") return;
        client.write(d);
      });
    });
  }

  /**
   * Starts a proxy, on a free loopback port, in front of the server `url` names (its host, and its port or
   * else `defaultPort`); {@link url} is `url` through the proxy.
   */
  static async inFrontOf(url: string, defaultPort: number): Promise<FaultProxy> {
    const target = new URL(url);
    const proxy = new FaultProxy(Number(target.port || defaultPort), target.hostname);
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    target.hostname = "127.0.0.1";
    target.port = String((proxy.#server.address() as net.AddressInfo).port);
    proxy.#url = target.toString();
    return proxy;
  }

  /** The URL the proxy was started in front of, with the proxy's host and port. */
  get url(): string {
    return this.#url;
  }

  /** Passes everything again: stops swallowing in either direction. */
  heal(): void {
    this.swallow = "none";
    this.swallowToServerContaining = undefined;
    this.swallowToClientAfter = undefined;
  }

  /**
   * Destroys every open connection (the client sees its socket close); new ones are still accepted, and
   * swallowed as {@link swallow} says.
   */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Stops accepting connections and destroys every open one. */
  close(): void {
    this.#server.close();
    this.cut();
  }
}

/**
 * Starts `call` while `proxy` swallows `direction`, then 100 ms later (time enough for the request to
 * reach the server, or the proxy) heals and cuts every connection, and returns what `call` settles with,
 * logging how long that took.
 */
export async function cutWhileWaiting<T>(
  proxy: FaultProxy,
  direction: "toClient" | "toServer",
  call: () => Promise<T>,
): Promise<T> {
  proxy.swallow = direction;
  const started = Date.now();
  const result = call();
  result.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 100));
  proxy.heal();
  proxy.cut();
  try {
    return await result;
  } finally {
    console.log(`${direction}: settled ${Date.now() - started} ms after the call started (cut at ~100 ms)`);
  }
}
