import net from "node:net";
import { DATABASE_URL } from "./pg-test-database.js";

/**
 * A TCP proxy to the test server that, while `swallowing`, drops the bytes both ways without closing
 * anything: a network partition as the client sees it (no reset, no answer), until TCP gives up minutes
 * later. `url` is `DATABASE_URL` through the proxy.
 */
export class SwallowingProxy {
  swallowing = false;
  /** Connections accepted so far. */
  accepted = 0;
  readonly #sockets = new Set<net.Socket>();
  readonly #server: net.Server;
  #url = "";

  private constructor() {
    const target = new URL(DATABASE_URL);
    this.#server = net.createServer((client) => {
      this.accepted++;
      const server = net.connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, server]) {
        this.#sockets.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => {
          this.#sockets.delete(socket);
          client.destroy();
          server.destroy();
        });
      }
      client.on("data", (d) => this.swallowing || server.write(d));
      server.on("data", (d) => this.swallowing || client.write(d));
    });
  }

  static async start(): Promise<SwallowingProxy> {
    const proxy = new SwallowingProxy();
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    const via = new URL(DATABASE_URL);
    via.hostname = "127.0.0.1";
    via.port = String((proxy.#server.address() as net.AddressInfo).port);
    proxy.#url = via.toString();
    return proxy;
  }

  get url(): string {
    return this.#url;
  }

  /** Cuts every connection made so far (the client sees them close); new ones are still accepted. */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Cuts every connection and stops listening. */
  close(): void {
    this.cut();
    this.#server.close();
  }
}
