/**
 * The configuration loader shared by the `eventsourced` CLI and applications (the counter example): a YAML
 * file (`CONFIG_DIR/default.yaml`) overridden by `APP__SECTION__KEY` env vars, validated against a schema,
 * with errors that name the key and where its value came from.
 * @module
 */

// Describing a configuration
export { ENV_PREFIX, envVarToKey, keyToEnvVar } from "./env-keys.js";
// The event log section
export {
  EVT_LOG_CONFIG_SCHEMA,
  EVT_LOG_CONFIG_SCHEMA_WITH_DEFAULTS,
  EVT_LOG_CONVENTIONAL_ENV,
  type EvtLogConfig,
  natsSnapshotBucket,
  natsSubjectPrefix,
} from "./evt-log-config.js";
export {
  type BooleanField,
  type EnumField,
  type FieldSpec,
  type IntegerField,
  isFieldSpec,
  type SectionSpec,
  type StringField,
} from "./field-spec.js";
// Loading
export {
  type ConfigOverride,
  type ConfigSources,
  type LoadedYamlConfig,
  type LoadYamlConfigOptions,
  loadYamlConfig,
} from "./load-config.js";
// Printing URLs
export { redactUrl } from "./redact-url.js";
// Reporting an unreachable server
export { failureReason, serverUnreachableError, urlPassword } from "./server-unreachable.js";
