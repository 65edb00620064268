import { type BackoffOptions, ConfigurationError } from "@eventsourced/core";

const SOURCE = "ClusterOptions";

/** How a routed command is retried. */
export interface RetryOptions {
  /** The budget of a `send` without `timeoutMs`, in milliseconds; default 10,000. */
  readonly defaultTimeoutMs?: number | undefined;
  /**
   * The longest one attempt waits for the owner's reply before trying again (a paused owner must not
   * eat the whole budget); default 3,000 ms. The owner gets it as the command's timeout.
   */
  readonly attemptTimeoutMs?: number | undefined;
  /** Jittered backoff between attempts (core's `Backoff`); default 20 ms doubling to 500 ms. */
  readonly backoff?: BackoffOptions | undefined;
}

/** {@link RetryOptions} validated, with defaults. */
export interface Retry {
  readonly defaultTimeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly backoff: BackoffOptions;
}

/** Throws `ConfigurationError` naming `key` unless `value` is an integer in [min, max]. */
export function integerOption(key: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `${key} must be an integer from ${min} to ${max}, got ${String(value)}`,
      key,
      SOURCE,
    );
  }
  return value;
}

/** Validates the retry options. */
export function retryOptions(options: RetryOptions | undefined): Retry {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new ConfigurationError(`retry must be an object, got ${String(options)}`, "retry", SOURCE);
  }
  return {
    defaultTimeoutMs: integerOption(
      "retry.defaultTimeoutMs",
      options?.defaultTimeoutMs ?? 10_000,
      1,
      3_600_000,
    ),
    attemptTimeoutMs: integerOption(
      "retry.attemptTimeoutMs",
      options?.attemptTimeoutMs ?? 3_000,
      10,
      3_600_000,
    ),
    backoff: options?.backoff ?? { initialMs: 20, maxMs: 500 },
  };
}

/** Cluster names: 1 to 64 letters, digits, `_` or `-` (they become NATS subject tokens and lease keys). */
export const CLUSTER_NAME_PATTERN: RegExp = /^[A-Za-z0-9_-]{1,64}$/;

/** Node ids: 1 to 100 letters, digits, `_` or `-` (they become NATS KV keys). */
export const NODE_ID_PATTERN: RegExp = /^[A-Za-z0-9_-]{1,100}$/;

/** Throws `ConfigurationError` naming `key` unless `value` matches `pattern`. */
export function patternOption(key: string, value: string, pattern: RegExp): string {
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new ConfigurationError(`${key} ${JSON.stringify(value)} must match ${pattern}`, key, SOURCE);
  }
  return value;
}

/** Validates a NATS subject prefix (default `"eventsourced.cluster"`). */
export function subjectPrefix(prefix: string | undefined): string {
  return patternOption(
    "subjectPrefix",
    prefix ?? "eventsourced.cluster",
    /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
  );
}

/** The subjects of one entity type of one cluster. */
export interface Subjects {
  /** The subject the owner of `shard` serves. */
  shard(shard: number): string;
  /** Where nodes announce that ownership changed (a release), so the others rebalance at once. */
  readonly hint: string;
}

/** `<prefix>.<cluster>.<type>.<shard>`, hints on `<prefix>.<cluster>.<type>.hint`. */
export function subjects(prefix: string, cluster: string, type: string): Subjects {
  const base = `${prefix}.${cluster}.${type}`;
  const shards: string[] = [];
  return {
    shard: (shard) => {
      shards[shard] ??= `${base}.${shard}`;
      return shards[shard];
    },
    hint: `${base}.hint`,
  };
}

/** Throws `ConfigurationError` naming `key` unless `value` is undefined or an object with these methods. */
export function methodsOption<T>(key: string, value: T, methods: readonly string[]): T {
  if (value === undefined) return value;
  const missing =
    typeof value !== "object" || value === null
      ? methods
      : methods.filter((name) => typeof (value as Record<string, unknown>)[name] !== "function");
  if (missing.length > 0) {
    throw new ConfigurationError(`${key} must be an object with ${missing.join(", ")}()`, key, SOURCE);
  }
  return value;
}
