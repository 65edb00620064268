// The counter entity

export { redactUrl } from "@eventsourced/cli/config";
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
// The run: write phase, recovery and verification
export { CountingEvtLog } from "./counting-evt-log.js";
// Its protobuf messages (generated from proto/counter.proto)
export { CounterEvt, CounterState, Decreased, Increased } from "./generated/counter.js";
export { LatencyRecorder } from "./latency-recorder.js";
export {
  createProgress,
  type ProgressMode,
  type ProgressOptions,
  type ProgressSink,
  type ProgressStream,
} from "./progress.js";
export { reportLines, type SummaryJson, summaryJson } from "./report.js";
export { type Mismatch, type RunCountersOptions, type RunSummary, runCounters } from "./run.js";
// The workload of the example run
export { counterCmdAt, counterId, netChangeOf } from "./workload.js";
