/**
 * What the counter example can be configured with: the shape of `config/default.yaml`, and for each key
 * its type, so that files are validated and `APP__...` env values coerced by one description.
 */

/** A key holding a whole number in `[min, max]`. */
export interface IntegerField {
  readonly type: "integer";
  readonly min: number;
  readonly max?: number | undefined;
}

/** A key holding `true` or `false`. */
export interface BooleanField {
  readonly type: "boolean";
}

/** A key holding one of a few words. */
export interface EnumField {
  readonly type: "enum";
  readonly values: readonly string[];
}

/** A key holding text. */
export interface StringField {
  readonly type: "string";
  /** Whether `""` is a meaningful value (e.g. "no URL: use the embedded database"). */
  readonly allowEmpty?: boolean | undefined;
  /** Never printed, not even in an error message: may contain a password or token. */
  readonly secret?: boolean | undefined;
  /** A file system path: relative values resolve against the config file's directory (or the cwd for env). */
  readonly path?: boolean | undefined;
  /** Allowed form, described for error messages. */
  readonly pattern?: { readonly regex: RegExp; readonly description: string } | undefined;
}

/** The type of one configuration key. */
export type FieldSpec = IntegerField | BooleanField | EnumField | StringField;

/** A section: keys (camelCase) mapping to fields or nested sections. */
export interface SectionSpec {
  readonly [key: string]: FieldSpec | SectionSpec;
}

/** True when `spec` describes a single key rather than a section. */
export function isFieldSpec(spec: FieldSpec | SectionSpec): spec is FieldSpec {
  return typeof spec.type === "string";
}

const NAME = {
  regex: /^[A-Za-z][A-Za-z0-9_-]{0,62}$/,
  description: "a letter, then letters, digits, _ or -",
};
const POSTGRES_URL = {
  regex: /^postgres(ql)?:\/\//,
  description: "a postgres:// or postgresql:// URL, or empty for the embedded database",
};
const SUBJECT_PREFIX = {
  regex: /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
  description: "dot-separated tokens of letters, digits, _ and -",
};
const NATS_URL = { regex: /^(nats|tls|wss?):\/\/|^[^:/]+:\d+$/, description: "a nats:// URL or host:port" };

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
  evtLog: {
    kind: { type: "enum", values: ["postgres", "nats"] },
    postgres: {
      url: { type: "string", allowEmpty: true, secret: true, pattern: POSTGRES_URL },
      dataDir: { type: "string", path: true },
      schema: { type: "string", pattern: NAME },
    },
    nats: {
      url: { type: "string", secret: true, pattern: NATS_URL },
      user: { type: "string", allowEmpty: true },
      password: { type: "string", allowEmpty: true, secret: true },
      token: { type: "string", allowEmpty: true, secret: true },
      credsFile: { type: "string", allowEmpty: true, path: true },
      stream: { type: "string", pattern: NAME },
      subjectPrefix: { type: "string", allowEmpty: true, pattern: SUBJECT_PREFIX },
      bucket: { type: "string", allowEmpty: true, pattern: NAME },
    },
  },
  health: {
    port: { type: "integer", min: 0, max: 65_535 },
  },
  output: {
    progress: { type: "enum", values: ["auto", "bar", "lines", "off"] },
    summaryFile: { type: "string", allowEmpty: true, path: true },
  },
} as const satisfies SectionSpec;
