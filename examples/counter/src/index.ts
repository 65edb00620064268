// The counter entity

// Configuration
export {
  type ConfigSources,
  type CounterConfig,
  DEFAULT_CONFIG_DIR,
  ENV_PREFIX,
  envVarToKey,
  keyToEnvVar,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
} from "./config.js";
export { COUNTER_CONFIG_SCHEMA, type FieldSpec, type SectionSpec } from "./config-schema.js";
export {
  COUNTER_TYPE_NAME,
  type CounterCmd,
  type CounterRejection,
  type CounterReply,
  counter,
  type Dec,
  dec,
  type Get,
  get,
  type Inc,
  inc,
  MAX_COUNTER_VALUE,
  type Overflow,
  type Underflow,
} from "./counter.js";
export { type CounterBinarizerKind, counterBinarizer } from "./counter-binarizer.js";
// Its protobuf messages (generated from proto/counter.proto)
export { CounterEvt, CounterState, Decreased, Increased } from "./generated/counter.js";
export { redactUrl } from "./redact.js";
// The workload of the example run
export { counterCmdAt, counterId, netChangeOf } from "./workload.js";
