/**
 * What the counter example can be configured with: the shape of `config/default.yaml`, and for each key
 * its type, so that files are validated and `APP__...` env values coerced by one description. The
 * `evtLog` section is the one the `eventsourced` CLI reads from the same file.
 */
import { EVT_LOG_CONFIG_SCHEMA, type SectionSpec } from "@eventsourced/cli/config";

export type { FieldSpec, SectionSpec } from "@eventsourced/cli/config";

/** Every key of the counter example's configuration. */
export const COUNTER_CONFIG_SCHEMA = {
  counter: {
    entityCount: { type: "integer", min: 1, max: 1_000_000 },
    evtCount: { type: "integer", min: 0, max: 1_000_000_000 },
    snapshotAfter: { type: "integer", min: 0 },
    binarizer: { type: "enum", values: ["protobuf", "json"] },
    mailboxSize: { type: "integer", min: 1, max: 1_000_000 },
    maxActive: { type: "integer", min: 1, max: 1_000_000_000 },
    verify: { type: "boolean" },
  },
  evtLog: EVT_LOG_CONFIG_SCHEMA,
  health: {
    port: { type: "integer", min: 0, max: 65_535 },
  },
  output: {
    progress: { type: "enum", values: ["auto", "bar", "lines", "off"] },
    summaryFile: { type: "string", allowEmpty: true, path: true },
  },
} as const satisfies SectionSpec;
