import { ConfigurationError, InvalidArgumentError } from "@eventsourced/core";
import type { LeaseStore } from "./lease-store.js";

const SOURCE = "LeaseKeeperOptions";

// setTimeout cannot wait longer: a longer delay fires at once, so a keeper would poll in a busy loop.
const MAX_TIMER_MS = 2 ** 31 - 1;

function numberOption(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value) || value > MAX_TIMER_MS)) {
    throw new ConfigurationError(
      `${name} ${String(value)} must be a finite number of milliseconds, at most ${MAX_TIMER_MS}`,
      name,
      SOURCE,
    );
  }
}

/** A keeper's validated timing. */
export interface KeeperTiming {
  readonly marginMs: number;
  readonly renewEveryMs: number;
  readonly pollMs: number;
}

/**
 * Defaults and checks for a store TTL: margin max(250 ms, TTL / 10), renewal every TTL / 3, poll 500 ms.
 * A renewal period must leave time to renew before the deadline (TTL - margin), or no lease would survive
 * its first round. Each is a finite number of milliseconds up to 2^31 - 1 (the longest timer).
 * `ConfigurationError` names the offending option.
 */
export function keeperTiming(
  ttlMs: number,
  options: {
    readonly marginMs?: number | undefined;
    readonly renewEveryMs?: number | undefined;
    readonly pollMs?: number | undefined;
  },
): KeeperTiming {
  numberOption("marginMs", options.marginMs);
  numberOption("renewEveryMs", options.renewEveryMs);
  numberOption("pollMs", options.pollMs);
  const marginMs = options.marginMs ?? Math.max(250, ttlMs / 10);
  const renewEveryMs = options.renewEveryMs ?? ttlMs / 3;
  const pollMs = options.pollMs ?? 500;
  if (!(marginMs >= 0 && marginMs < ttlMs)) {
    throw new ConfigurationError(
      `marginMs ${marginMs} must be >= 0 and < the TTL (${ttlMs} ms)`,
      "marginMs",
      SOURCE,
    );
  }
  if (!(renewEveryMs > 0 && renewEveryMs < ttlMs - marginMs)) {
    throw new ConfigurationError(
      `renewEveryMs ${renewEveryMs} must be > 0 and < TTL - margin (${ttlMs - marginMs} ms)`,
      "renewEveryMs",
      SOURCE,
    );
  }
  if (!(pollMs > 0 && Number.isFinite(pollMs))) {
    throw new ConfigurationError(`pollMs ${pollMs} must be > 0`, "pollMs", SOURCE);
  }
  return { marginMs, renewEveryMs, pollMs };
}

/**
 * Throws `InvalidArgumentError` when `store` is not a lease store or `options` not an object, and
 * `ConfigurationError` naming a hook (`onAcquired`, `onLost`, `onLog`) that is not a function.
 */
export function validateKeeperArguments(store: LeaseStore, options: object): void {
  if (
    typeof store?.tryAcquire !== "function" ||
    typeof store.renewMany !== "function" ||
    typeof store.release !== "function"
  ) {
    throw new InvalidArgumentError("LeaseKeeper needs a LeaseStore (tryAcquire, renewMany, release)");
  }
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`LeaseKeeper options must be an object, got ${String(options)}`);
  }
  for (const hook of ["onAcquired", "onLost", "onLog"]) {
    const value = (options as Record<string, unknown>)[hook];
    if (value !== undefined && typeof value !== "function") {
      throw new ConfigurationError(`${hook} must be a function`, hook, SOURCE);
    }
  }
}
