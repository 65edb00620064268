/**
 * How a configuration is described: for each key its type, so that YAML files are validated and env values
 * coerced by one description. Shared by the counter example and the `eventsourced` CLI.
 */

/** A key holding a whole number in `[min, max]`. */
export interface IntegerField {
  readonly type: "integer";
  readonly min: number;
  readonly max?: number | undefined;
  /** Used when neither the file nor the environment sets the key; without it the key is required. */
  readonly default?: number | undefined;
}

/** A key holding `true` or `false`. */
export interface BooleanField {
  readonly type: "boolean";
  /** Used when neither the file nor the environment sets the key; without it the key is required. */
  readonly default?: boolean | undefined;
}

/** A key holding one of a few words. */
export interface EnumField {
  readonly type: "enum";
  readonly values: readonly string[];
  /** Used when neither the file nor the environment sets the key; without it the key is required. */
  readonly default?: string | undefined;
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
  /**
   * Allowed form, described for error messages: the value must match `regex` and, when given, pass
   * `check` (for what a regular expression cannot say, such as a URL that parses).
   */
  readonly pattern?:
    | {
        /** The value must match it. */
        readonly regex: RegExp;
        /** The allowed form in words, for the error message ("a postgres:// URL"). */
        readonly description: string;
        /** What a regular expression cannot say (a URL that parses): the value must pass it too. */
        readonly check?: ((value: string) => boolean) | undefined;
      }
    | undefined;
  /** Used when neither the file nor the environment sets the key; without it the key is required. */
  readonly default?: string | undefined;
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
