import type { FieldSpec, SectionSpec } from "./field-spec.js";

/** The `evtLog` section of a configuration: which log, and where its server is. */
export interface EvtLogConfig {
  readonly kind: "postgres" | "nats";
  readonly postgres: {
    /** Empty: the embedded PGlite database in `dataDir` (the counter example's default). */
    readonly url: string;
    /** Absolute. */
    readonly dataDir: string;
    readonly schema: string;
  };
  readonly nats: {
    readonly url: string;
    readonly user: string;
    readonly password: string;
    readonly token: string;
    /** Absolute, or empty. */
    readonly credsFile: string;
    readonly stream: string;
    /** Empty: the stream name (see {@link natsSubjectPrefix}). */
    readonly subjectPrefix: string;
    /** KV bucket of the snapshots; empty: `<stream>-snapshots` (see {@link natsSnapshotBucket}). */
    readonly bucket: string;
  };
}

const NAME = {
  regex: /^[A-Za-z][A-Za-z0-9_-]{0,62}$/,
  description: "a letter, then letters, digits, _ or -",
};
const POSTGRES_URL = {
  regex: /^postgres(ql)?:\/\//,
  description: "a postgres:// or postgresql:// URL, or empty for the embedded database",
  /**
   * A URL that does not parse (a port above 65535, a stray space) is a mistake in the configuration, not a
   * server that cannot be reached.
   */
  check: (value: string) => URL.canParse(value),
};
const SUBJECT_PREFIX = {
  regex: /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
  description: "dot-separated tokens of letters, digits, _ and -",
};
const NATS_URL = {
  regex: /^(nats|tls|wss?):\/\/|^[^:/]+:\d+$/,
  description: "a nats:// URL or host:port",
  /** A URL (not `host:port`) must parse: a port above 65535 is a configuration mistake. */
  check: (value: string) => !value.includes("://") || URL.canParse(value),
};

/**
 * Every key of the `evtLog` section, without defaults: a program whose file must set every key (the counter
 * example) uses it as it is; the CLI adds defaults.
 */
export const EVT_LOG_CONFIG_SCHEMA = {
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
} as const satisfies SectionSpec;

const withDefault = <F extends FieldSpec>(field: F, value: F["default"]): F => ({ ...field, default: value });
const { postgres, nats } = EVT_LOG_CONFIG_SCHEMA;

/**
 * {@link EVT_LOG_CONFIG_SCHEMA} with the packages' own defaults (the CLI README's configuration table), so
 * that a file with `kind` and a URL is enough: what the `eventsourced` CLI reads, and what an application
 * whose file should not have to name every key puts in its schema.
 */
export const EVT_LOG_CONFIG_SCHEMA_WITH_DEFAULTS = {
  kind: withDefault(EVT_LOG_CONFIG_SCHEMA.kind, "postgres"),
  postgres: {
    url: withDefault(postgres.url, ""),
    dataDir: withDefault(postgres.dataDir, ".data/pglite"),
    schema: withDefault(postgres.schema, "eventsourced"),
  },
  nats: {
    url: withDefault(nats.url, "nats://127.0.0.1:4222"),
    user: withDefault(nats.user, ""),
    password: withDefault(nats.password, ""),
    token: withDefault(nats.token, ""),
    credsFile: withDefault(nats.credsFile, ""),
    stream: withDefault(nats.stream, "eventsourced"),
    subjectPrefix: withDefault(nats.subjectPrefix, ""),
    bucket: withDefault(nats.bucket, ""),
  },
} as const satisfies SectionSpec;

/** Plain env vars honoured below `APP__...` overrides, because tools and CI commonly set them. */
export const EVT_LOG_CONVENTIONAL_ENV: ReadonlyArray<readonly [string, string]> = [
  ["DATABASE_URL", "evtLog.postgres.url"],
  ["NATS_URL", "evtLog.nats.url"],
];

/**
 * The subjects' prefix: the stream name unless set, so that two streams never claim the same subjects and
 * a fresh stream never meets the snapshots of an old one.
 */
export function natsSubjectPrefix(nats: EvtLogConfig["nats"]): string {
  return nats.subjectPrefix || nats.stream;
}

/** The snapshots' KV bucket: `<stream>-snapshots` unless set. */
export function natsSnapshotBucket(nats: EvtLogConfig["nats"]): string {
  return nats.bucket || `${nats.stream}-snapshots`;
}
