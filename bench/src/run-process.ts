import { spawn } from "node:child_process";
import { once } from "node:events";
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
  /** Stop the process (SIGTERM, then SIGKILL after a grace period) when it runs longer than this. */
  readonly timeoutMs: number;
}

const KILL_GRACE_MS = 10_000;

/**
 * Runs one benchmark process with its output streamed to ours and resolves with how it ended; it never
 * rejects, because one failing suite must not stop the others.
 */
export async function runProcess(options: RunProcessOptions): Promise<ProcessOutcome> {
  const { label, command, args, cwd, env, timeoutMs } = options;
  const started = performance.now();
  const line = [command === process.execPath ? "node" : command, ...args].join(" ");
  // The built-in timeout sends SIGTERM, which a process may handle (the counter finishes cleanly on it).
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: "inherit",
    timeout: timeoutMs,
  });
  const kill = setTimeout(() => child.kill("SIGKILL"), timeoutMs + KILL_GRACE_MS);
  try {
    const [exitCode, signal] = (await once(child, "exit")) as [number | null, string | null];
    const durationSeconds = (performance.now() - started) / 1000;
    // Only the timeout kills it, so a killed child is one that ran out of time.
    return { label, command: line, exitCode, signal, timedOut: child.killed, durationSeconds };
  } catch (err) {
    return notRun(label, line, `cannot start \`${line}\`: ${(err as Error).message}`);
  } finally {
    clearTimeout(kill);
  }
}

/** The outcome of a process that could not be started. */
export function notRun(label: string, command: string, error: string): ProcessOutcome {
  return { label, command, exitCode: null, signal: null, timedOut: false, durationSeconds: 0, error };
}
