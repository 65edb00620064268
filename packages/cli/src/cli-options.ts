import { parseArgs } from "node:util";
import type { ConfigOptions } from "./cli-config.js";
import { CliUsageError } from "./cli-errors.js";
import type { CliOptions } from "./command.js";

/** The parsed command line: the command's words and arguments, and the options. */
export interface ParsedCommandLine {
  readonly positionals: readonly string[];
  readonly options: CliOptions;
  readonly config: ConfigOptions;
  readonly help: boolean;
  readonly version: boolean;
}

const OPTIONS = {
  url: { type: "string" },
  config: { type: "string" },
  schema: { type: "string" },
  stream: { type: "string" },
  json: { type: "boolean" },
  yes: { type: "boolean" },
  binarizer: { type: "string" },
  after: { type: "string" },
  limit: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  "seq-no": { type: "string" },
  wait: { type: "string" },
  "bucket-prefix": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** The `--json` flag, read before parsing so that even a parse error is reported as JSON when asked. */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes("--json");
}

/**
 * Parses with Node's `util.parseArgs` (strict: an unknown option or a missing value is an error).
 * @throws CliUsageError with parseArgs' own explanation.
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new CliUsageError((cause as Error).message.split("\n")[0] ?? "invalid command line", { cause });
  }
  const v = parsed.values;
  return {
    positionals: parsed.positionals,
    options: {
      json: v.json ?? false,
      yes: v.yes ?? false,
      binarizer: v.binarizer,
      after: v.after,
      limit: v.limit,
      from: v.from,
      to: v.to,
      seqNo: v["seq-no"],
      wait: v.wait,
      bucketPrefix: v["bucket-prefix"],
    },
    config: { url: v.url, config: v.config, schema: v.schema, stream: v.stream },
    help: v.help ?? false,
    version: v.version ?? false,
  };
}
