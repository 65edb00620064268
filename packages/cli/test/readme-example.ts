// The TypeScript examples of packages/cli/README.md, verbatim between the region markers
// (test/readme-code-blocks.test.ts checks); readme-example.test.ts runs them.
// #region config
import {
  EVT_LOG_CONFIG_SCHEMA_WITH_DEFAULTS,
  EVT_LOG_CONVENTIONAL_ENV,
  type EvtLogConfig,
  loadYamlConfig,
  type SectionSpec,
} from "@eventsourced/cli/config";

const APP_CONFIG_SCHEMA = {
  // The section the eventsourced CLI reads from the same file, with the CLI's defaults (the table above);
  // EVT_LOG_CONFIG_SCHEMA is the same without defaults, for a file that must name every key.
  evtLog: EVT_LOG_CONFIG_SCHEMA_WITH_DEFAULTS,
  http: { port: { type: "integer", min: 1, max: 65_535, default: 8080 } },
} as const satisfies SectionSpec;

interface AppConfig {
  readonly evtLog: EvtLogConfig;
  readonly http: { readonly port: number };
}

/** `CONFIG_DIR/default.yaml` (else `configDir`), then `DATABASE_URL`/`NATS_URL`, then `APP__HTTP__PORT`... */
export function appConfig(configDir: string, env: Record<string, string | undefined>): AppConfig {
  return loadYamlConfig<AppConfig>({
    schema: APP_CONFIG_SCHEMA,
    defaultDir: configDir,
    env,
    conventionalEnv: EVT_LOG_CONVENTIONAL_ENV,
  }).config; // or throws ConfigurationError naming the key, e.g. "config key http.port must be ..."
}

// #endregion config

// #region run-cli
import { runCli } from "@eventsourced/cli";

/** The projections of a PostgreSQL database, as `eventsourced projections list --json` prints them. */
export async function listProjections(url: string, schema: string): Promise<unknown> {
  let json = "";
  const code = await runCli(["projections", "list", "--json", "--url", url, "--schema", schema], {
    stdout: (text) => {
      json += text;
    },
  });
  if (code !== 0) throw new Error(`eventsourced exited with ${code}`);
  return JSON.parse(json);
}
// #endregion run-cli
