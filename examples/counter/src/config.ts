import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigurationError } from "@eventsourced/core";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { COUNTER_CONFIG_SCHEMA, type FieldSpec, isFieldSpec, type SectionSpec } from "./config-schema.js";
import type { CounterBinarizerKind } from "./counter-binarizer.js";
import type { HealthConfig } from "./health-server.js";
import { redactUrl } from "./redact.js";

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
  readonly evtLog: {
    readonly kind: "postgres" | "nats";
    readonly postgres: {
      /** Empty: the embedded PGlite database in `dataDir`. */
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
      readonly subjectPrefix: string;
      readonly bucket: string;
    };
  };
  readonly output: {
    readonly progress: "auto" | "bar" | "lines" | "off";
    /** Absolute, or empty: no JSON summary. */
    readonly summaryFile: string;
  };
}

/** Where each key's value came from: a file path or `env VAR`, by dotted key. */
export type ConfigSources = ReadonlyMap<string, string>;

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

/** The prefix of env vars that override config keys: `APP__SECTION__KEY`. */
export const ENV_PREFIX = "APP__";

/** The example's own config directory, used when `CONFIG_DIR` is not set. */
export const DEFAULT_CONFIG_DIR: string = fileURLToPath(new URL("../config/", import.meta.url));

const CONFIG_FILE = "default.yaml";

/** Plain env vars honoured below `APP__...` overrides, because tools and CI commonly set them. */
const CONVENTIONAL_ENV: ReadonlyArray<readonly [string, string]> = [
  ["DATABASE_URL", "evtLog.postgres.url"],
  ["NATS_URL", "evtLog.nats.url"],
];

/**
 * Maps an env var name to a dotted config key: `APP__COUNTER__EVT_COUNT` → `counter.evtCount`
 * (`__` separates sections, `_` separates words of a camelCase key).
 */
export function envVarToKey(name: string): string {
  return name
    .slice(ENV_PREFIX.length)
    .split("__")
    .map((segment) =>
      segment
        .toLowerCase()
        .split("_")
        .map((word, i) => (i === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1)))
        .join(""),
    )
    .join(".");
}

/** Maps a dotted config key to its env var: `counter.evtCount` → `APP__COUNTER__EVT_COUNT`. */
export function keyToEnvVar(key: string): string {
  return (
    ENV_PREFIX +
    key
      .split(".")
      .map((segment) => segment.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase())
      .join("__")
  );
}

type Origin =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "env"; readonly name: string };

function describeOrigin(origin: Origin): string {
  return origin.kind === "file" ? origin.path : `env ${origin.name}`;
}

function sourceLabel(origin: Origin): string {
  return origin.kind === "file" ? `in ${origin.path}` : `from env var ${origin.name}`;
}

function fail(key: string, origin: Origin, problem: string): never {
  throw new ConfigurationError(
    `config key ${key} ${problem} (${sourceLabel(origin)})`,
    key,
    describeOrigin(origin),
  );
}

function lookup(key: string): FieldSpec | SectionSpec | undefined {
  let spec: FieldSpec | SectionSpec = COUNTER_CONFIG_SCHEMA;
  for (const segment of key.split(".")) {
    if (isFieldSpec(spec) || !Object.hasOwn(spec, segment)) return undefined;
    spec = spec[segment] as FieldSpec | SectionSpec;
  }
  return spec;
}

function shown(field: FieldSpec, value: unknown): string {
  if (field.type === "string" && field.secret) {
    // A URL is still worth showing with its password masked; anything else secret is not shown at all.
    return typeof value === "string" && value.includes("://") ? JSON.stringify(redactUrl(value)) : "(hidden)";
  }
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function expectation(field: FieldSpec): string {
  switch (field.type) {
    case "integer":
      return field.max === undefined
        ? `an integer >= ${field.min}`
        : `an integer from ${field.min} to ${field.max}`;
    case "boolean":
      return "true or false";
    case "enum":
      return `one of ${field.values.join(", ")}`;
    case "string":
      return field.pattern ? field.pattern.description : field.allowEmpty ? "a string" : "a non-empty string";
  }
}

/** Env values are text: turn them into the field's type, or leave them as they are for validation to reject. */
function coerce(field: FieldSpec, raw: string): unknown {
  const text = raw.trim();
  if (field.type === "integer" && /^-?\d+$/.test(text)) return Number(text);
  if (field.type === "boolean" && /^(true|false)$/i.test(text)) return text.toLowerCase() === "true";
  if (field.type === "enum") return text;
  return raw;
}

function validate(key: string, field: FieldSpec, value: unknown, origin: Origin, cwd: string): unknown {
  if (value === undefined || value === null)
    fail(key, origin, `has no value; expected ${expectation(field)}`);
  const wrong = (): never => fail(key, origin, `must be ${expectation(field)}, got ${shown(field, value)}`);
  switch (field.type) {
    case "integer":
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < field.min) wrong();
      if (field.max !== undefined && (value as number) > field.max) wrong();
      return value;
    case "boolean":
      return typeof value === "boolean" ? value : wrong();
    case "enum":
      return typeof value === "string" && field.values.includes(value) ? value : wrong();
    case "string": {
      if (typeof value !== "string") return wrong();
      if (value === "") return field.allowEmpty ? value : wrong();
      if (field.pattern && !field.pattern.regex.test(value)) wrong();
      if (!field.path) return value;
      const base = origin.kind === "file" ? dirname(origin.path) : cwd;
      return resolve(base, value);
    }
  }
}

function assign(target: Record<string, unknown>, key: string, value: unknown): void {
  const segments = key.split(".");
  let node = target;
  for (const segment of segments.slice(0, -1)) {
    node[segment] ??= {};
    node = node[segment] as Record<string, unknown>;
  }
  node[segments.at(-1)!] = value;
}

function collectFile(
  node: unknown,
  prefix: string,
  origin: Origin,
  values: Map<string, { value: unknown; origin: Origin }>,
): void {
  if (node === null || typeof node !== "object" || Array.isArray(node)) {
    fail(prefix || "(top level)", origin, "must be a section of keys");
  }
  for (const [name, value] of Object.entries(node as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const spec = lookup(key);
    if (spec === undefined) fail(key, origin, "is not a known key");
    if (isFieldSpec(spec)) values.set(key, { value, origin });
    else collectFile(value, key, origin, values);
  }
}

function readFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigurationError(
      `cannot read the config file ${path}: ${(cause as Error).message} (set CONFIG_DIR to the directory holding ${CONFIG_FILE})`,
      "CONFIG_DIR",
      path,
      { cause },
    );
  }
  try {
    return parseYaml(text) ?? {};
  } catch (cause) {
    const where = cause instanceof YAMLParseError && cause.linePos ? ` at line ${cause.linePos[0].line}` : "";
    throw new ConfigurationError(`${path} is not valid YAML${where}`, "(file)", path, { cause });
  }
}

function leafKeys(spec: SectionSpec, prefix = ""): Array<readonly [string, FieldSpec]> {
  return Object.entries(spec).flatMap(([name, child]) => {
    const key = prefix ? `${prefix}.${name}` : name;
    return isFieldSpec(child) ? [[key, child] as const] : leafKeys(child, key);
  });
}

/**
 * Reads `default.yaml` from `CONFIG_DIR` (default: the example's own `config/`), applies `DATABASE_URL`,
 * `NATS_URL` and then every `APP__SECTION__KEY` env var, and validates the result.
 * @throws ConfigurationError naming the key and where its value came from (file path or env var); an
 * unknown key, a wrong type and a missing value are all errors.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const dir = env.CONFIG_DIR ? resolve(cwd, env.CONFIG_DIR) : DEFAULT_CONFIG_DIR;
  const file = join(dir, CONFIG_FILE);
  const values = new Map<string, { value: unknown; origin: Origin }>();
  collectFile(readFile(file), "", { kind: "file", path: file }, values);

  const overrides = [
    ...CONVENTIONAL_ENV.filter(([name]) => env[name] !== undefined && env[name] !== "").map(
      ([name, key]) => [name, key] as const,
    ),
    // Sorted so that the first error reported does not depend on the environment's order.
    ...Object.keys(env)
      .filter((name) => name.startsWith(ENV_PREFIX))
      .sort()
      .map((name) => [name, envVarToKey(name)] as const),
  ];
  for (const [name, key] of overrides) {
    const origin: Origin = { kind: "env", name };
    const spec = lookup(key);
    if (spec === undefined || key.split(".").some((segment) => segment === "")) {
      fail(key, origin, "is not a known key");
    }
    if (!isFieldSpec(spec)) fail(key, origin, "is a section, not a single key");
    values.set(key, { value: coerce(spec, env[name] ?? ""), origin });
  }

  const config: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const [key, field] of leafKeys(COUNTER_CONFIG_SCHEMA)) {
    const entry = values.get(key);
    const origin = entry?.origin ?? { kind: "file", path: file };
    assign(config, key, validate(key, field, entry?.value, origin, cwd));
    sources.set(key, describeOrigin(origin));
  }
  return { config: config as unknown as CounterConfig, sources, file };
}
