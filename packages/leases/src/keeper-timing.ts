import { ConfigurationError } from "@eventsourced/core";

const SOURCE = "LeaseKeeperOptions";

/** A keeper's validated timing. */
export interface KeeperTiming {
  readonly marginMs: number;
  readonly renewEveryMs: number;
  readonly pollMs: number;
}

/**
 * Defaults and checks for a store TTL: margin max(250 ms, TTL / 10), renewal every TTL / 3, poll 500 ms.
 * A renewal period must leave time to renew before the deadline (TTL - margin), or no lease would survive
 * its first round. `ConfigurationError` names the offending option.
 */
export function keeperTiming(
  ttlMs: number,
  options: {
    readonly marginMs?: number | undefined;
    readonly renewEveryMs?: number | undefined;
    readonly pollMs?: number | undefined;
  },
): KeeperTiming {
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
