import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BUILT = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

/** Fails with what to do when the package has not been built (child processes run `dist/`). */
export function requireBuild(): void {
  if (!existsSync(BUILT)) {
    throw new Error("these tests run the built package: run `npm run build` (or `npx tsc -b`)");
  }
}

/** A projection fixture (`test/fixtures/*.mjs`) in a child process, and the lines it printed so far. */
export class ProjectionProcess {
  readonly child: ChildProcess;
  /** Every stdout line with the monotonic time it arrived. */
  readonly lines: { readonly line: string; readonly at: bigint }[] = [];
  #stderr = "";
  #buffer = "";
  readonly #listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    fixture: URL,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [fileURLToPath(fixture)], {
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
      for (const line of lines) this.lines.push({ line, at });
      for (const listener of [...this.#listeners]) listener();
    });
  }

  /** Lines starting with `prefix ` (the prefix removed), with their arrival times. */
  find(prefix: string): { readonly rest: string; readonly at: bigint }[] {
    return this.lines
      .filter((l) => l.line.startsWith(`${prefix} `) || l.line === prefix)
      .map((l) => ({ rest: l.line.slice(prefix.length + 1), at: l.at }));
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

  /** Ends the process with `signal` (SIGCONT first, in case it is stopped) and waits for its exit. */
  async end(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGCONT");
    this.child.kill(signal);
    await exited;
  }
}
