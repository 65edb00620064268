import { afterEach, describe, expect, it } from "vitest";
import { FaultProxy } from "../../../../test/support/fault-proxy.js";
import { NatsServerProcess } from "../../../../test/support/nats-server-process.js";

/** What these tests close: a store or log that opened its own connection to `servers`. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * The tests every NATS store that opens its own connection passes: `close()` returns with the server down
 * (and nats.js stops dialling: the process can exit) and behind a partition. `open` connects to `servers`
 * (a private server behind a cutting proxy) with `closeTimeoutMs: 500` and uses the connection once.
 */
export function describeCloseDuringOutage(what: string, open: (servers: string) => Promise<Closable>): void {
  describe(`closing ${what} whose server is away`, () => {
    let server: NatsServerProcess | undefined;
    let proxy: FaultProxy | undefined;
    let opened: Closable | undefined;

    afterEach(async () => {
      await opened?.close().catch(() => {});
      proxy?.close();
      await server?.stop();
      opened = undefined;
      proxy = undefined;
      server = undefined;
    });

    async function start(): Promise<{ server: NatsServerProcess; proxy: FaultProxy; opened: Closable }> {
      server = await NatsServerProcess.start(["-js"]);
      proxy = await FaultProxy.inFrontOf(server.url, 4222);
      opened = await open(proxy.url);
      return { server, proxy, opened };
    }

    it("returns with the server down and stops reconnecting", async () => {
      const { server, proxy, opened } = await start();
      await server.kill();
      proxy.heal();
      proxy.cut();
      const started = Date.now();
      await opened.close();
      console.log(`close() with the server down took ${Date.now() - started} ms (closeTimeoutMs 500)`);
      // nats.js no longer dials (it would every 500 ms): nothing keeps the process alive. A dial already
      // under way when close() returned may still reach the proxy: counting starts a moment later.
      await new Promise((resolve) => setTimeout(resolve, 600));
      const dials = proxy.accepted;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(proxy.accepted).toBe(dials);
    }, 30_000);

    it("returns behind a partition", async () => {
      const { proxy, opened } = await start();
      // The drain's flush is never answered: nats.js would wait until it finds the connection stale.
      proxy.swallow = "toServer";
      const started = Date.now();
      await opened.close();
      console.log(`close() behind a partition took ${Date.now() - started} ms (closeTimeoutMs 500)`);
    }, 30_000);
  });
}
