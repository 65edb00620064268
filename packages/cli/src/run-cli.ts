import { readFileSync } from "node:fs";
import { ConfigurationError, EventSourcedError, InvalidArgumentError } from "@eventsourced/core";
import type { AdminBackend } from "./backends/admin-backend.js";
import { type CliConfig, loadCliConfig } from "./cli-config.js";
import { CliUsageError } from "./cli-errors.js";
import { parseCommandLine, wantsJson } from "./cli-options.js";
import { findCommand, usageLines } from "./commands/all-commands.js";
import { urlPassword } from "./config/server-unreachable.js";

/** Exit statuses of the `eventsourced` command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Where {@link runCli} reads and writes; the process's own by default. */
export interface CliIo {
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  readonly cwd?: string | undefined;
  /** Receives what goes to stdout (the output); default `process.stdout`. */
  readonly stdout?: ((text: string) => void) | undefined;
  /** Receives what goes to stderr (the one-line error); default `process.stderr`. */
  readonly stderr?: ((text: string) => void) | undefined;
}

/**
 * Every secret an error message could echo: the loaded config's passwords and tokens, and the password of
 * anything on the command line or in the environment that parses as a URL (decoded and as written), so a
 * URL in the wrong place (a stray argument, an unknown option's value) is masked too.
 */
function secretsOf(
  config: CliConfig | undefined,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const secrets = new Set<string>();
  if (config !== undefined) {
    const { postgres, nats } = config.evtLog;
    for (const s of [urlPassword(postgres.url), urlPassword(nats.url), nats.password, nats.token]) {
      secrets.add(s);
    }
  }
  for (const text of [...argv, ...Object.values(env)]) {
    if (text === undefined || !text.includes("://")) continue;
    // `--opt=postgres://...` carries the URL after the `=`.
    const eq = text.indexOf("=");
    const url = eq >= 0 && eq < text.indexOf("://") ? text.slice(eq + 1) : text;
    secrets.add(urlPassword(url));
    secrets.add(rawUrlPassword(url));
  }
  secrets.delete("");
  // Longest first, so that a secret containing another is masked whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

function rawUrlPassword(url: string): string {
  try {
    return new URL(url).password;
  } catch {
    return "";
  }
}

/** `scheme://user:password@` masked in any text, also in URLs that do not parse. */
function maskUrlCredentials(text: string): string {
  return text.replace(/(\/\/[^\s:/@"']*):[^\s@/"']*@/g, "$1:***@");
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CliUsageError || error instanceof ConfigurationError) return EXIT.usage;
  if (error instanceof InvalidArgumentError) return EXIT.usage;
  return EXIT.failed;
}

function version(): string {
  const manifest = new URL("../package.json", import.meta.url);
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

async function openBackend(config: CliConfig): Promise<AdminBackend> {
  // Each driver is loaded only when used: a configuration error is reported without loading any.
  if (config.evtLog.kind === "nats")
    return (await import("./backends/nats-backend.js")).openNatsBackend(config);
  return (await import("./backends/postgres-backend.js")).openPostgresBackend(config);
}

/**
 * Runs one `eventsourced` command line (without `node` and the script) and resolves to its exit status:
 * 0 done, 1 failed or refused (with one line on stderr) or, for `schema status`, not up to date (its report
 * on stdout as usual), 2 a bad command line or configuration (naming the option or config key). Never rejects.
 * @example
 * process.exitCode = await runCli(["projections", "list", "--url", "postgres://localhost/app"]);
 */
export async function runCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const out = io.stdout ?? ((text: string) => process.stdout.write(text));
  const err = io.stderr ?? ((text: string) => process.stderr.write(text));
  const json = wantsJson(argv);
  let config: CliConfig | undefined;
  let backend: AdminBackend | undefined;
  try {
    const line = parseCommandLine(argv);
    if (line.version) {
      out(json ? `${JSON.stringify({ version: version() })}\n` : `${version()}\n`);
      return EXIT.ok;
    }
    const found = findCommand(line.positionals);
    if (line.help) {
      out(`${usageLines().join("\n")}\n`);
      return EXIT.ok;
    }
    if (line.positionals.length === 0) {
      err(`${usageLines().join("\n")}\n`);
      return EXIT.usage;
    }
    if (found === undefined) {
      throw new CliUsageError(
        `unknown command ${JSON.stringify(line.positionals.join(" "))} (--help lists them)`,
      );
    }
    const { command, args } = found;
    const wanted = command.params.split(" ").filter((p) => p.startsWith("<"));
    if (args.length !== wanted.length) {
      throw new CliUsageError(
        `${command.words.join(" ")} takes ${wanted.length === 0 ? "no arguments" : wanted.join(" ")}, got ${args.length === 0 ? "none" : args.map((a) => JSON.stringify(a)).join(" ")}`,
      );
    }
    // An option the command does not take is a mistake (a typo'd command, a misplaced flag), not a no-op.
    const takes = new Set([...(command.flags ?? "").matchAll(/--([a-z-]+)/g)].map((m) => m[1]));
    for (const name of line.commandOptions) {
      if (!takes.has(name)) {
        throw new CliUsageError(
          `${command.words.join(" ")} does not take --${name}${takes.size === 0 ? "" : ` (it takes ${[...takes].map((t) => `--${t}`).join(", ")})`}`,
        );
      }
    }
    config = loadCliConfig(line.config, env, cwd).config;
    const loaded = config;
    const output = await command.run({
      args,
      options: line.options,
      cwd,
      backend: async () => {
        backend ??= await openBackend(loaded);
        return backend;
      },
    });
    out(json ? `${JSON.stringify(output.json)}\n` : `${output.text.join("\n")}\n`);
    return output.exitCode ?? EXIT.ok;
  } catch (error) {
    let message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof EventSourcedError)) message = `unexpected failure: ${message}`;
    for (const secret of secretsOf(config, argv, env)) message = message.split(secret).join("***");
    message = maskUrlCredentials(message);
    message = message.replace(/\s*\n\s*/g, " ");
    if (json) {
      const code = error instanceof EventSourcedError ? error.code : "UNEXPECTED";
      const key = error instanceof ConfigurationError ? { key: error.key } : {};
      err(`${JSON.stringify({ error: { code, message, ...key } })}\n`);
    } else {
      err(`eventsourced: ${message}\n`);
    }
    return exitCodeOf(error);
  } finally {
    await backend?.close().catch(() => {});
  }
}
