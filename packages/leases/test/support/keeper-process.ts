import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { LeaseLogEntry } from "@eventsourced/leases";
import { parseLeaseLogLine } from "@eventsourced/leases/testing";

const FIXTURE = fileURLToPath(new URL("../fixtures/keeper-process.mjs", import.meta.url));
const BUILT = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

/** Fails with what to do when the package has not been built (child processes run `dist/`). */
export function requireBuild(): void {
  if (!existsSync(BUILT)) {
    throw new Error(
      "these tests run the built package: run `npm run build` (or `npx tsc -b packages/leases`)",
    );
  }
}

/** A `LeaseKeeper` in a child process (`fixtures/keeper-process.mjs`) and what it printed so far. */
export class KeeperProcess {
  readonly child: ChildProcess;
  readonly log: LeaseLogEntry[] = [];
  readonly work: bigint[] = [];
  readonly lost: string[] = [];
  #stderr = "";
  #buffer = "";
  #listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    args: readonly string[],
  ) {
    this.child = spawn(process.execPath, [FIXTURE, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.#buffer += chunk.toString();
      const lines = this.#buffer.split("\n");
      this.#buffer = lines.pop() ?? "";
      for (const line of lines) this.#line(line);
      for (const listener of [...this.#listeners]) listener();
    });
  }

  /** The owner id, once it logged anything. */
  get owner(): string | undefined {
    return this.log[0]?.owner;
  }

  acquisitions(): LeaseLogEntry[] {
    return this.log.filter((e) => e.event === "acquired");
  }

  /** Resolves once `predicate` holds; rejects after `boundMs` (a liveness bound, not a timing assertion). */
  waitFor(what: string, predicate: () => boolean, boundMs: number): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no ${what} within ${boundMs} ms; stderr:\n${this.#stderr}`));
      }, boundMs);
      const onExit = () => {
        cleanup();
        reject(
          new Error(`${this.name} exited (${this.child.exitCode}) before ${what}; stderr:\n${this.#stderr}`),
        );
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        this.child.off("exit", onExit);
      };
      this.#listeners.add(check);
      this.child.once("exit", onExit);
    });
  }

  /** Sends a signal; for SIGSTOP, resolves once the kernel reports the process stopped. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    this.child.kill(signal);
    if (signal !== "SIGSTOP") return;
    const deadline = Date.now() + 5_000;
    while (readFileSync(`/proc/${this.child.pid}/stat`, "utf8").split(") ")[1]?.[0] !== "T") {
      if (Date.now() > deadline) throw new Error(`${this.name} did not stop on SIGSTOP`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Kills the process (SIGCONT first, in case it is stopped) and waits for its exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGCONT");
    this.child.kill("SIGKILL");
    await exited;
  }

  #line(line: string): void {
    if (line.startsWith("log ")) this.log.push(parseLeaseLogLine(line.slice(4)));
    else if (line.startsWith("work ")) this.work.push(BigInt(line.slice(5)));
    else if (line.startsWith("lost ")) this.lost.push(line.slice(5));
  }
}
