import { ConfigurationError, InvalidArgumentError } from "@eventsourced/core";

/** The longest lease key, in characters. */
export const MAX_LEASE_KEY_LENGTH = 255;

/** The longest owner id, in characters. */
export const MAX_LEASE_OWNER_LENGTH = 255;

/**
 * Lease keys: dot-separated tokens of `A-Z a-z 0-9 _ = -` (no empty token). That is a valid NATS KV key and
 * subject without wildcards, and plain text in SQL. Encode arbitrary names with `encodeIdToken` from
 * `@eventsourced/evtlog-nats`, whose output uses exactly these characters.
 */
export const LEASE_KEY_PATTERN: RegExp = /^[A-Za-z0-9_=-]+(?:\.[A-Za-z0-9_=-]+)*$/;

/**
 * Throws `InvalidArgumentError` unless `key` matches {@link LEASE_KEY_PATTERN} and has at most
 * {@link MAX_LEASE_KEY_LENGTH} characters.
 * @example
 * validateLeaseKey(`shard.${type}.${shard}`); // "shard.counter.17"
 */
export function validateLeaseKey(key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_LEASE_KEY_LENGTH) {
    throw new InvalidArgumentError(
      `invalid lease key ${describe(key)}: must be 1 to ${MAX_LEASE_KEY_LENGTH} characters`,
    );
  }
  if (!LEASE_KEY_PATTERN.test(key)) {
    throw new InvalidArgumentError(`invalid lease key ${describe(key)}: must match ${LEASE_KEY_PATTERN}`);
  }
}

/**
 * Throws `InvalidArgumentError` unless `owner` is a non-empty, well-formed string without NUL of at most
 * {@link MAX_LEASE_OWNER_LENGTH} characters (it is stored as text in PostgreSQL and JSON in NATS).
 */
export function validateLeaseOwner(owner: string): void {
  if (typeof owner !== "string" || owner.length === 0 || owner.length > MAX_LEASE_OWNER_LENGTH) {
    throw new InvalidArgumentError(
      `invalid lease owner ${describe(owner)}: must be 1 to ${MAX_LEASE_OWNER_LENGTH} characters`,
    );
  }
  if (!owner.isWellFormed() || owner.includes("\0")) {
    throw new InvalidArgumentError(
      `invalid lease owner ${describe(owner)}: must be well-formed Unicode without NUL`,
    );
  }
}

/** Throws `ConfigurationError` unless a store's `ttlMs` is an integer from 100 ms to one day. */
export function validateTtlMs(ttlMs: number, source: string): void {
  if (!Number.isInteger(ttlMs) || ttlMs < 100 || ttlMs > 86_400_000) {
    throw new ConfigurationError(
      `invalid lease ttlMs ${ttlMs}: an integer number of milliseconds from 100 to 86400000`,
      "ttlMs",
      source,
    );
  }
}

/** Throws `InvalidArgumentError` when two grants name the same key (a batch renews each key once). */
export function validateDistinctKeys(grants: readonly { readonly key: string }[]): void {
  const seen = new Set<string>();
  for (const { key } of grants) {
    if (seen.has(key))
      throw new InvalidArgumentError(`lease key ${describe(key)} appears twice in one batch`);
    seen.add(key);
  }
}

function describe(value: unknown): string {
  if (typeof value !== "string") return String(value);
  return value.length > 64
    ? `${JSON.stringify(value.slice(0, 64))}... (${value.length} characters)`
    : JSON.stringify(value);
}

/**
 * Throws `InvalidArgumentError` unless `grant` is a lease grant a store can act on: an object with a valid
 * key and owner and an epoch that is a safe integer >= 0 (a grant from a store, not made up: an epoch of
 * `NaN` or `1.5` must be refused, not sent to the store as a failure whose outcome is unknown).
 */
export function validateLeaseGrant(grant: unknown): void {
  if (typeof grant !== "object" || grant === null) {
    throw new InvalidArgumentError(`invalid lease grant ${String(grant)}: must be a grant from a store`);
  }
  const { key, owner, epoch } = grant as { key?: unknown; owner?: unknown; epoch?: unknown };
  validateLeaseKey(key as string);
  validateLeaseOwner(owner as string);
  if (!Number.isSafeInteger(epoch) || (epoch as number) < 0) {
    throw new InvalidArgumentError(`invalid lease grant epoch ${String(epoch)}: must be an integer >= 0`);
  }
}

/** {@link validateLeaseGrant} for each of `grants` (an array), and {@link validateDistinctKeys}. */
export function validateLeaseGrants(grants: unknown): void {
  if (!Array.isArray(grants)) throw new InvalidArgumentError("lease grants must be an array");
  for (const grant of grants) validateLeaseGrant(grant);
  validateDistinctKeys(grants as { key: string }[]);
}
