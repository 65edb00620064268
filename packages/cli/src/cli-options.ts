import { parseArgs } from "node:util";
import type { ConfigOptions } from "./cli-config.js";
import { CliUsageError } from "./cli-errors.js";
import type { CliOptions } from "./command.js";

/** The parsed command line: the command's words and arguments, and the options. */
export interface ParsedCommandLine {
  readonly positionals: readonly string[];
  readonly options: CliOptions;
  /** The command-specific options given (`limit`, `seq-no`, ...), to check that the command takes them. */
  readonly commandOptions: readonly string[];
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

/** Options that only some commands take (each command's `flags` lists its own). */
const COMMAND_OPTIONS: ReadonlySet<string> = new Set([
  "yes",
  "binarizer",
  "after",
  "limit",
  "from",
  "to",
  "seq-no",
  "wait",
  "bucket-prefix",
]);

/** A negative number, which `parseArgs` would take for a short option. */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

/**
 * `argv` with `--opt -1` written as `--opt=-1`, so that a negative value reaches the option's own check
 * ("must be an integer >= 1") instead of parseArgs' "argument is ambiguous".
 * @throws CliUsageError for a negative number where no option takes it (a position or count argument).
 */
function withNegativeValues(argv: readonly string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    // After `--` everything is an argument as written (an entity id may start with "-").
    if (token === "--") {
      args.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const option = OPTIONS[token.slice(2) as keyof typeof OPTIONS] as { type: string } | undefined;
    if (
      token.startsWith("--") &&
      option?.type === "string" &&
      next !== undefined &&
      NEGATIVE_NUMBER.test(next)
    ) {
      args.push(`${token}=${next}`);
      i++;
    } else if (NEGATIVE_NUMBER.test(token)) {
      throw new CliUsageError(
        `argument ${token}: negative numbers are not valid (positions, counts and seqNos are >= 0)`,
      );
    } else {
      args.push(token);
    }
  }
  return args;
}

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
    parsed = parseArgs({
      args: withNegativeValues(argv),
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (cause) {
    if (cause instanceof CliUsageError) throw cause;
    throw new CliUsageError((cause as Error).message.split("\n")[0] ?? "invalid command line", { cause });
  }
  const v = parsed.values;
  return {
    positionals: parsed.positionals,
    commandOptions: Object.keys(v).filter((name) => COMMAND_OPTIONS.has(name)),
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
