import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

/** The built command the tests run (`npx tsc -b` builds it; `npm test` does first). */
export const BIN_JS: string = fileURLToPath(new URL("../../dist/bin.js", import.meta.url));

/** The binarizer module fixture, by absolute path. */
export const BINARIZER_MODULE: string = fileURLToPath(new URL("./shouting-binarizer.mjs", import.meta.url));

/** How one run ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Fails with the command to build, rather than with an obscure spawn error. */
export function assertBuilt(): void {
  if (!existsSync(BIN_JS)) throw new Error(`${BIN_JS} is missing: build it with \`npx tsc -b\``);
}

/** The environment without anything that configures the CLI, so only the test's settings apply. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith("APP__")) continue;
    if (name === "DATABASE_URL" || name === "NATS_URL" || name === "CONFIG_DIR") continue;
    env[name] = value;
  }
  return env;
}

/** Runs `node packages/cli/dist/bin.js ...args` in a directory without a `config/`; bounded at 60 s. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN_JS, ...args], {
      cwd: tmpdir(),
      env: { ...cleanEnv(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs and parses stdout as the one JSON document `--json` prints; fails with stderr when it exits non-zero. */
export async function runJson<T = Record<string, unknown>>(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<T> {
  const run = await runCli([...args, "--json"], env);
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
