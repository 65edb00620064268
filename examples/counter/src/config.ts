import { fileURLToPath } from "node:url";
import {
  type ConfigSources,
  EVT_LOG_CONVENTIONAL_ENV,
  type EvtLogConfig,
  loadYamlConfig,
} from "@eventsourced/cli/config";
import { COUNTER_CONFIG_SCHEMA } from "./config-schema.js";
import type { CounterBinarizerKind } from "./counter-binarizer.js";
import type { HealthConfig } from "./health-server.js";

export { type ConfigSources, ENV_PREFIX, envVarToKey, keyToEnvVar } from "@eventsourced/cli/config";

/** The counter example's configuration, validated. */
export interface CounterConfig extends HealthConfig {
  readonly counter: {
    /** How many counters (`counter-0` … `counter-<n-1>`). */
    readonly entityCount: number;
    /** Commands sent to each counter. */
    readonly evtCount: number;
    /** Snapshot every this many events; 0 disables snapshots. */
    readonly snapshotAfter: number;
    readonly binarizer: CounterBinarizerKind;
    readonly mailboxSize: number;
    /** At most this many counters resident at once (the registry passivates the least recently used). */
    readonly maxActive: number;
    /** After the write phase, re-spawn every counter and check its value. */
    readonly verify: boolean;
  };
  readonly evtLog: EvtLogConfig;
  readonly output: {
    readonly progress: "auto" | "bar" | "lines" | "off";
    /** Absolute, or empty: no JSON summary. */
    readonly summaryFile: string;
  };
}

/** A validated configuration and the provenance of every value. */
export interface LoadedConfig {
  readonly config: CounterConfig;
  readonly sources: ConfigSources;
  /** The file the defaults were read from. */
  readonly file: string;
}

/** Options of {@link loadConfig}; the defaults read the real process environment. */
export interface LoadConfigOptions {
  /** The environment to read `CONFIG_DIR`, `APP__...`, `DATABASE_URL` and `NATS_URL` from. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** What relative paths given in env vars resolve against. */
  readonly cwd?: string | undefined;
}

/** The example's own config directory, used when `CONFIG_DIR` is not set. */
export const DEFAULT_CONFIG_DIR: string = fileURLToPath(new URL("../config/", import.meta.url));

/**
 * Reads `default.yaml` from `CONFIG_DIR` (default: the example's own `config/`), applies `DATABASE_URL`,
 * `NATS_URL` and then every `APP__SECTION__KEY` env var, and validates the result (the loader of
 * `@eventsourced/cli/config`, shared with the `eventsourced` CLI).
 * @throws ConfigurationError naming the key and where its value came from (file path or env var); an
 * unknown key, a wrong type and a missing value are all errors.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const loaded = loadYamlConfig<CounterConfig>({
    schema: COUNTER_CONFIG_SCHEMA,
    defaultDir: DEFAULT_CONFIG_DIR,
    env: options.env,
    cwd: options.cwd,
    conventionalEnv: EVT_LOG_CONVENTIONAL_ENV,
  });
  return { config: loaded.config, sources: loaded.sources, file: loaded.file! };
}
