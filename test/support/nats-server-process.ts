import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The nats-server binary the fault tests start their own servers with. */
export const NATS_SERVER_BIN: string = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * A private nats-server on a loopback port, for tests that kill, restart or misconfigure a server.
 * `stop()` kills it (SIGKILL) and removes its store directory.
 */
export class NatsServerProcess {
  #child: ChildProcess | undefined;
  readonly storeDir: string;

  private constructor(
    readonly port: number,
    readonly args: readonly string[],
  ) {
    this.storeDir = mkdtempSync(join(tmpdir(), "eventsourced-nats-"));
  }

  /** Starts `nats-server -a 127.0.0.1 -p <free port> ...extraArgs`; add `-js` for JetStream. */
  static async start(extraArgs: readonly string[]): Promise<NatsServerProcess> {
    const server = new NatsServerProcess(await freePort(), extraArgs);
    await server.restart();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again) on the same port and store directory; resolves once it accepts clients. */
  async restart(): Promise<void> {
    const args = ["-a", "127.0.0.1", "-p", String(this.port), "-sd", this.storeDir, ...this.args];
    const child = spawn(NATS_SERVER_BIN, args, { stdio: ["ignore", "ignore", "pipe"] });
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      let log = "";
      const timer = setTimeout(() => fail(new Error(`nats-server did not start in 15 s:\n${log}`)), 15_000);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes("Server is ready")) {
          clearTimeout(timer);
          child.stderr?.off("data", onData);
          child.stderr?.resume();
          resolve();
        }
      };
      function fail(err: Error) {
        clearTimeout(timer);
        reject(err);
      }
      child.stderr?.on("data", onData);
      child.once("error", (err) => fail(new Error(`cannot run ${NATS_SERVER_BIN}: ${err.message}`)));
      child.once("exit", (code) => fail(new Error(`nats-server exited with ${code}:\n${log}`)));
    });
  }

  /**
   * Freezes the server (SIGSTOP) and resolves once the kernel reports it stopped: connections stay open,
   * nothing is answered until {@link resume}.
   */
  async pause(): Promise<void> {
    const child = this.#child;
    if (child?.pid === undefined) return;
    child.kill("SIGSTOP");
    const deadline = Date.now() + 5_000;
    // Field 3 of /proc/<pid>/stat is the state; "T" once every thread has stopped.
    while (readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.[0] !== "T") {
      if (Date.now() > deadline) throw new Error("nats-server did not stop on SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Lets a paused server carry on (SIGCONT). */
  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  /** Kills the server and removes its store directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
