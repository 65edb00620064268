import type { AdminBackend } from "./backends/admin-backend.js";
import { CliUsageError } from "./cli-errors.js";
import { type Decoder, loadDecoder } from "./decode-bytes.js";

/** The options every command may be given (see `cli-options.ts`). */
export interface CliOptions {
  readonly json: boolean;
  readonly yes: boolean;
  readonly binarizer?: string | undefined;
  readonly after?: string | undefined;
  readonly limit?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly seqNo?: string | undefined;
  /** Seconds to wait for the active instance to perform a request. */
  readonly wait?: string | undefined;
  /** Prefix of the cluster's NATS KV buckets (default `eventsourced-cluster`). */
  readonly bucketPrefix?: string | undefined;
}

/** What a command gets: its positional arguments, the options, and the backend (opened on first use). */
export interface CommandContext {
  /** Positional arguments after the command's words (`events <type> <id>`: `[type, id]`). */
  readonly args: readonly string[];
  readonly options: CliOptions;
  readonly cwd: string;
  backend(): Promise<AdminBackend>;
}

/** What a command prints: `json` with `--json` (one document on stdout), `text` lines otherwise. */
export interface CommandOutput {
  readonly json: unknown;
  readonly text: readonly string[];
  /** The exit status when not 0: a check that found something to act on (`schema status`: not up to date). */
  readonly exitCode?: number | undefined;
}

/** One command: its words (`["projections", "pause"]`), its arguments for the usage text, and its work. */
export interface Command {
  readonly words: readonly string[];
  /** `<name>`, `<type> <id>`: shown in the usage text; the count of `<...>` is checked. */
  readonly params: string;
  /** Options that matter to it, for the usage text. */
  readonly flags?: string | undefined;
  readonly summary: string;
  run(ctx: CommandContext): Promise<CommandOutput>;
}

/** `text` as an integer >= `min`, or a usage error naming the option. */
export function integerArg(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new CliUsageError(`${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** A destructive command runs only with `--yes`. */
export function requireYes(ctx: CommandContext, what: string): void {
  if (!ctx.options.yes) throw new CliUsageError(`${what}: add --yes to confirm (nothing was changed)`);
}

/** The decoder of `--binarizer`, if given. */
export function decoderOf(ctx: CommandContext): Promise<Decoder | undefined> {
  const spec = ctx.options.binarizer;
  return spec === undefined ? Promise.resolve(undefined) : loadDecoder(spec, ctx.cwd);
}

/** Rows as left-aligned columns separated by two spaces, with a header row. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
