import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * A fixture in a child process that reports by printing lines on stdout, for the tests that pause (SIGSTOP),
 * resume and kill processes: leases' keeper processes, projections' instances. Subclasses read each line.
 */
export abstract class LineProcess {
  readonly child: ChildProcess;
  #stderr = "";
  #buffer = "";
  readonly #listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    script: string,
    args: readonly string[] = [],
    env: Readonly<Record<string, string>> = {},
  ) {
    this.child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      const at = process.hrtime.bigint();
      this.#buffer += chunk.toString();
      const lines = this.#buffer.split("\n");
      this.#buffer = lines.pop() ?? "";
      for (const line of lines) this.onLine(line, at);
      for (const listener of [...this.#listeners]) listener();
    });
  }

  /** One line of stdout, with the monotonic time it arrived. */
  protected abstract onLine(line: string, at: bigint): void;

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

  /** Ends the process with `signal` (SIGCONT first, in case it is stopped) and waits for its exit. */
  async end(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGCONT");
    this.child.kill(signal);
    await exited;
  }
}
