import net from "node:net";

/** A TCP proxy to `port`; while `drop` names a direction, bytes that way are swallowed. */
export class CuttingProxy {
  drop: "none" | "toServer" | "toClient" = "none";
  /** While set, chunks to the server that contain this text are swallowed (e.g. one subject's publishes). */
  dropToServerContaining: string | undefined;
  /**
   * While set, once a chunk to the server contains this text (e.g. a header name), every byte to the client
   * is swallowed until {@link cut}: the answer to that message (and everything after it) never arrives.
   */
  dropToClientAfter: string | undefined;
  /** Connections accepted so far (each reconnect attempt of a client is one). */
  accepted = 0;
  readonly #sockets = new Set<net.Socket>();
  readonly #server: net.Server;

  constructor(port: number) {
    this.#server = net.createServer((client) => {
      this.accepted++;
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
        if (this.dropToClientAfter !== undefined && d.includes(this.dropToClientAfter))
          this.drop = "toClient";
        if (this.drop === "toServer") return;
        if (this.dropToServerContaining !== undefined && d.includes(this.dropToServerContaining)) return;
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
    this.dropToServerContaining = undefined;
    this.dropToClientAfter = undefined;
    for (const socket of this.#sockets) socket.destroy();
  }

  /**
   * Starts `call` while `drop` swallows that direction, cuts every connection 100 ms later (time enough for
   * the request to reach the server, or the proxy) and returns what `call` settles with, logging how long
   * that took.
   */
  async cutWhileWaiting<T>(drop: "toClient" | "toServer", call: () => Promise<T>): Promise<T> {
    this.drop = drop;
    const started = Date.now();
    const result = call();
    result.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    this.cut();
    try {
      return await result;
    } finally {
      console.log(`${drop}: settled ${Date.now() - started} ms after the call started (cut at ~100 ms)`);
    }
  }

  close(): void {
    this.cut();
    this.#server.close();
  }
}
