import { spawn } from "node:child_process";
import type { ProcessOutcome } from "./run-report.js";

/** Options for {@link runProcess}. */
export interface RunProcessOptions {
  /** For people: shown in the run's progress lines and on the results page. */
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Merged over this process' environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the process (SIGTERM, then SIGKILL after a grace period) when it runs longer than this. */
  readonly timeoutMs: number;
}

const KILL_GRACE_MS = 10_000;

/**
 * Runs one benchmark process with its output streamed to ours and resolves with how it ended; it never
 * rejects, because one failing suite must not stop the others.
 */
export function runProcess(options: RunProcessOptions): Promise<ProcessOutcome> {
  const started = performance.now();
  const command = [options.command, ...options.args].join(" ");
  const commandForPeople = [
    options.command === process.execPath ? "node" : options.command,
    ...options.args,
  ].join(" ");
  return new Promise((resolve) => {
    let timedOut = false;
    let error: string | undefined;
    let settled = false;
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: "inherit",
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }, KILL_GRACE_MS).unref();
    }, options.timeoutMs);
    const finish = (exitCode: number | null, signal: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        label: options.label,
        command: commandForPeople,
        exitCode,
        signal,
        timedOut,
        durationSeconds: (performance.now() - started) / 1000,
        ...(error === undefined ? {} : { error }),
      });
    };
    child.on("error", (err) => {
      error = `cannot start \`${command}\`: ${err.message}`;
      finish(null, null);
    });
    child.on("exit", (code, signal) => finish(code, signal));
  });
}
