import { join } from "node:path";
import { CliUsageError } from "./cli-errors.js";
import {
  EVT_LOG_CONFIG_SCHEMA_WITH_DEFAULTS,
  EVT_LOG_CONVENTIONAL_ENV,
  type EvtLogConfig,
} from "./config/evt-log-config.js";
import type { SectionSpec } from "./config/field-spec.js";
import { type ConfigOverride, type LoadedYamlConfig, loadYamlConfig } from "./config/load-config.js";

/** What the CLI reads from the application's config file (other sections are the application's own). */
export interface CliConfig {
  readonly evtLog: EvtLogConfig;
  readonly projections: {
    /** The checkpoint table in `evtLog.postgres.schema` (PostgreSQL). */
    readonly postgresTable: string;
    /** The checkpoint bucket (NATS KV). */
    readonly natsBucket: string;
  };
}

/**
 * The counter example's `evtLog` section with the packages' own defaults, so that a URL alone is enough;
 * plus where the projection checkpoints are.
 */
export const CLI_CONFIG_SCHEMA = {
  evtLog: EVT_LOG_CONFIG_SCHEMA_WITH_DEFAULTS,
  projections: {
    postgresTable: {
      type: "string",
      pattern: { regex: /^[A-Za-z_][A-Za-z0-9_]{0,47}$/, description: "an SQL table name" },
      default: "projections",
    },
    natsBucket: {
      type: "string",
      pattern: { regex: /^[A-Za-z0-9_-]+$/, description: "letters, digits, _ or -" },
      default: "eventsourced-projections",
    },
  },
} as const satisfies SectionSpec;

/** Command-line options that set configuration keys. */
export interface ConfigOptions {
  readonly url?: string | undefined;
  readonly config?: string | undefined;
  readonly schema?: string | undefined;
  readonly stream?: string | undefined;
}

function urlOverrides(url: string): ConfigOverride[] {
  const source = "option --url";
  if (/^postgres(ql)?:\/\//.test(url)) {
    return [
      { key: "evtLog.kind", value: "postgres", source },
      { key: "evtLog.postgres.url", value: url, source },
    ];
  }
  if (/^(nats|tls|wss?):\/\//.test(url)) {
    return [
      { key: "evtLog.kind", value: "nats", source },
      { key: "evtLog.nats.url", value: url, source },
    ];
  }
  throw new CliUsageError("--url must be a postgres://, postgresql:// or nats:// URL");
}

/**
 * Reads `default.yaml` from `--config`, `CONFIG_DIR` or `./config` (the last may be absent), then env vars,
 * then the options; `--url` chooses the log by its scheme.
 * @throws ConfigurationError naming the key and where its value came from.
 */
export function loadCliConfig(
  options: ConfigOptions,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): LoadedYamlConfig<CliConfig> {
  const overrides: ConfigOverride[] = [
    ...(options.url === undefined ? [] : urlOverrides(options.url)),
    ...(options.schema === undefined
      ? []
      : [{ key: "evtLog.postgres.schema", value: options.schema, source: "option --schema" }]),
    ...(options.stream === undefined
      ? []
      : [{ key: "evtLog.nats.stream", value: options.stream, source: "option --stream" }]),
  ];
  return loadYamlConfig<CliConfig>({
    schema: CLI_CONFIG_SCHEMA,
    defaultDir: join(cwd, "config"),
    env: options.config === undefined ? env : { ...env, CONFIG_DIR: options.config },
    cwd,
    conventionalEnv: EVT_LOG_CONVENTIONAL_ENV,
    foreignSections: "ignore",
    missingDefaultFile: "defaults",
    overrides,
  });
}
