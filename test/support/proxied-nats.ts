import { FaultProxy } from "./fault-proxy.js";
import { NatsServerProcess } from "./nats-server-process.js";

/**
 * A private nats-server (JetStream on) and a {@link FaultProxy} in front of it: the set-up of the tests
 * that lose a client's connection. Clients connect to {@link servers}; the tests' own admin connections
 * go to `server.url`, past the proxy.
 */
export class ProxiedNats {
  private constructor(
    readonly server: NatsServerProcess,
    readonly proxy: FaultProxy,
  ) {}

  /** Starts `nats-server -js ...extraArgs` on a free port and a proxy to it. */
  static async start(extraArgs: readonly string[] = []): Promise<ProxiedNats> {
    const server = await NatsServerProcess.start(["-js", ...extraArgs]);
    return new ProxiedNats(server, await FaultProxy.inFrontOf(server.url, 4222));
  }

  /** The server's URL through the proxy. */
  get servers(): string {
    return this.proxy.url;
  }

  /** Closes the proxy (and every connection through it), then kills the server and removes its store. */
  async stop(): Promise<void> {
    this.proxy.close();
    await this.server.stop();
  }
}
