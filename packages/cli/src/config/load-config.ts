import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigurationError } from "@eventsourced/core";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { ENV_PREFIX, envVarToKey } from "./env-keys.js";
import { type FieldSpec, isFieldSpec, type SectionSpec } from "./field-spec.js";
import { redactUrl } from "./redact-url.js";

/** Where each key's value came from: a file path, `env VAR`, an option or `default`, by dotted key. */
export type ConfigSources = ReadonlyMap<string, string>;

/** A validated configuration and the provenance of every value. */
export interface LoadedYamlConfig<T> {
  readonly config: T;
  readonly sources: ConfigSources;
  /** The file the values were read from; `undefined` when there was none and defaults applied. */
  readonly file: string | undefined;
}

/** A value given on a command line, applied above the file and the environment. */
export interface ConfigOverride {
  /** Dotted key, e.g. `evtLog.postgres.url`. */
  readonly key: string;
  readonly value: string;
  /** How the user gave it, for error messages: e.g. `option --url`. */
  readonly source: string;
}

/** Options of {@link loadYamlConfig}. */
export interface LoadYamlConfigOptions {
  /** Every key the configuration may have. */
  readonly schema: SectionSpec;
  /** The directory holding the file when `CONFIG_DIR` is not set. */
  readonly defaultDir: string;
  /** Default `default.yaml`. */
  readonly fileName?: string | undefined;
  /** The environment to read `CONFIG_DIR` and `APP__...` from; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** What relative paths given in env vars resolve against; default `process.cwd()`. */
  readonly cwd?: string | undefined;
  /** Plain env vars (`DATABASE_URL`) mapped to keys, applied below `APP__...` overrides. */
  readonly conventionalEnv?: ReadonlyArray<readonly [name: string, key: string]> | undefined;
  /**
   * `"error"` (default): every key must be known. `"ignore"`: top-level sections the schema does not
   * have belong to another program sharing the file (the application's own settings) and are skipped, in
   * the file and in `APP__...` vars alike; an unknown key inside a known section is still an error.
   */
  readonly foreignSections?: "error" | "ignore" | undefined;
  /**
   * When `CONFIG_DIR` is not set and `defaultDir` holds no file: `"error"` (default), or `"defaults"` to go
   * on with the schema's defaults, the environment and the overrides.
   */
  readonly missingDefaultFile?: "error" | "defaults" | undefined;
  /** Values from a command line, above everything else. */
  readonly overrides?: readonly ConfigOverride[] | undefined;
}

type Origin =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "env"; readonly name: string }
  | { readonly kind: "option"; readonly source: string }
  | { readonly kind: "default" };

function describeOrigin(origin: Origin): string {
  switch (origin.kind) {
    case "file":
      return origin.path;
    case "env":
      return `env ${origin.name}`;
    case "option":
      return origin.source;
    case "default":
      return "default";
  }
}

function sourceLabel(origin: Origin): string {
  switch (origin.kind) {
    case "file":
      return `in ${origin.path}`;
    case "env":
      return `from env var ${origin.name}`;
    case "option":
      return `from ${origin.source}`;
    case "default":
      return "no file, env var or option sets it";
  }
}

function fail(key: string, origin: Origin, problem: string): never {
  throw new ConfigurationError(
    `config key ${key} ${problem} (${sourceLabel(origin)})`,
    key,
    describeOrigin(origin),
  );
}

function lookup(schema: SectionSpec, key: string): FieldSpec | SectionSpec | undefined {
  let spec: FieldSpec | SectionSpec = schema;
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
      if (field.pattern?.check !== undefined && !field.pattern.check(value)) wrong();
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

type Values = Map<string, { value: unknown; origin: Origin }>;

function collectFile(
  schema: SectionSpec,
  node: unknown,
  prefix: string,
  origin: Origin,
  values: Values,
  ignoreForeign: boolean,
): void {
  if (node === null || typeof node !== "object" || Array.isArray(node)) {
    fail(prefix || "(top level)", origin, "must be a section of keys");
  }
  for (const [name, value] of Object.entries(node as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const spec = lookup(schema, key);
    if (spec === undefined) {
      if (prefix === "" && ignoreForeign) continue;
      fail(key, origin, "is not a known key");
    }
    if (isFieldSpec(spec)) values.set(key, { value, origin });
    else collectFile(schema, value, key, origin, values, ignoreForeign);
  }
}

function readFile(path: string, fileName: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigurationError(
      `cannot read the config file ${path}: ${(cause as Error).message} (set CONFIG_DIR to the directory holding ${fileName})`,
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
 * Reads `<CONFIG_DIR or defaultDir>/default.yaml`, applies the conventional env vars (`DATABASE_URL`), then
 * every `APP__SECTION__KEY` env var, then the command line's overrides, and validates the result against
 * `schema`.
 * @throws ConfigurationError naming the key and where its value came from (file path, env var or option);
 * an unknown key, a wrong type and a missing value are all errors.
 * @example
 * const { config } = loadYamlConfig<{ evtLog: EvtLogConfig }>({ schema: { evtLog: EVT_LOG_CONFIG_SCHEMA }, defaultDir });
 */
export function loadYamlConfig<T>(options: LoadYamlConfigOptions): LoadedYamlConfig<T> {
  const { schema } = options;
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const fileName = options.fileName ?? "default.yaml";
  const ignoreForeign = options.foreignSections === "ignore";
  const dir = env.CONFIG_DIR ? resolve(cwd, env.CONFIG_DIR) : options.defaultDir;
  const path = join(dir, fileName);
  const useFile = env.CONFIG_DIR || options.missingDefaultFile !== "defaults" || existsSync(path);
  const file = useFile ? path : undefined;
  const values: Values = new Map();
  if (file !== undefined) {
    collectFile(schema, readFile(file, fileName), "", { kind: "file", path: file }, values, ignoreForeign);
  }

  const envOverrides = [
    ...(options.conventionalEnv ?? []).filter(([name]) => env[name] !== undefined && env[name] !== ""),
    // Sorted so that the first error reported does not depend on the environment's order.
    ...Object.keys(env)
      .filter((name) => name.startsWith(ENV_PREFIX))
      .sort()
      .map((name) => [name, envVarToKey(name)] as const),
  ];
  const sets: Array<{ key: string; raw: string; origin: Origin }> = [
    ...envOverrides.map(([name, key]) => ({
      key,
      raw: env[name] ?? "",
      origin: { kind: "env", name } as const,
    })),
    ...(options.overrides ?? []).map((o) => ({
      key: o.key,
      raw: o.value,
      origin: { kind: "option", source: o.source } as const,
    })),
  ];
  for (const { key, raw, origin } of sets) {
    const spec = lookup(schema, key);
    if (spec === undefined || key.split(".").some((segment) => segment === "")) {
      if (ignoreForeign && origin.kind === "env" && lookup(schema, key.split(".")[0] ?? "") === undefined) {
        continue;
      }
      fail(key, origin, "is not a known key");
    }
    if (!isFieldSpec(spec)) fail(key, origin, "is a section, not a single key");
    values.set(key, { value: coerce(spec, raw), origin });
  }

  const config: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const [key, field] of leafKeys(schema)) {
    const entry =
      values.get(key) ??
      (field.default === undefined
        ? undefined
        : { value: field.default, origin: { kind: "default" } as const });
    const origin: Origin =
      entry?.origin ?? (file === undefined ? { kind: "default" } : { kind: "file", path: file });
    assign(config, key, validate(key, field, entry?.value, origin, cwd));
    sources.set(key, describeOrigin(origin));
  }
  return { config: config as T, sources, file };
}
