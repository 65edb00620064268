import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

/** The built entry point the end-to-end tests run (`npm test` builds it first). */
export const MAIN_JS: string = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** The repository root, the cwd of `npm start`. */
export const REPO_ROOT: string = fileURLToPath(new URL("../../../", import.meta.url));

/** How one run of the example ended. */
export interface ExampleRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runExample}. */
export interface RunExampleOptions {
  /** Config overrides (`APP__...`), added to a clean environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Called with each chunk of stderr; lets a test react to progress (e.g. send SIGINT). */
  readonly onStderr?: (text: string, child: { kill(signal: NodeJS.Signals): boolean }) => void;
  /** Kill the run after this long; default 60 s. */
  readonly timeoutMs?: number;
}

/** Fails with the command to build, rather than with an obscure spawn error. */
export function assertBuilt(): void {
  if (!existsSync(MAIN_JS)) {
    throw new Error(
      `${MAIN_JS} is missing: build it with \`npx tsc -b examples/counter\` (npm test builds first)`,
    );
  }
}

/**
 * The environment of the test process without anything that configures the example, so that only the
 * test's overrides apply (a developer's DATABASE_URL must not redirect the embedded-database test).
 */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith("APP__")) continue;
    if (name === "DATABASE_URL" || name === "NATS_URL" || name === "CONFIG_DIR") continue;
    env[name] = value;
  }
  return env;
}

/** Runs `node examples/counter/dist/main.js` from the repository root, like `npm start` does. */
export function runExample(options: RunExampleOptions): Promise<ExampleRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_JS], {
      cwd: REPO_ROOT,
      env: { ...cleanEnv(), APP__OUTPUT__PROGRESS: "lines", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
      options.onStderr?.(text, child);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The line of `output` starting with `prefix`, or a failure listing the whole output. */
export function lineStartingWith(output: string, prefix: string): string {
  const line = output.split("\n").find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`no line starting with ${JSON.stringify(prefix)} in:\n${output}`);
  return line;
}

/** Removes what counter runs on the NATS stream `stream` leave: the stream, its snapshot and run-lease buckets. */
export async function deleteCounterStream(natsUrl: string, stream: string): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: 5_000 });
  const jsm = await jetstreamManager(nc);
  for (const name of [stream, `KV_${stream}-snapshots`, `KV_${stream}-counter-runs`]) {
    await jsm.streams.delete(name).catch(() => false);
  }
  await nc.close();
}
