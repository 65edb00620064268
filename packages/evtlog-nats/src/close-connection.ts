import { ConfigurationError } from "@eventsourced/core";
import type { NatsConnection } from "@nats-io/transport-node";

/** `closeTimeoutMs` when none is given: as long as a publish waits for its acknowledgement by default. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** The longest delay a Node.js timer takes (2^31 - 1 ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The `closeTimeoutMs` option of a store (`source` names its options type), validated: a positive integer
 * number of milliseconds; {@link DEFAULT_CLOSE_TIMEOUT_MS} when not given. Throws `ConfigurationError`.
 */
export function closeTimeoutOption(value: number | undefined, source: string): number {
  if (value === undefined) return DEFAULT_CLOSE_TIMEOUT_MS;
  if (!(Number.isInteger(value) && value >= 1 && value <= MAX_TIMER_MS)) {
    throw new ConfigurationError(
      `invalid closeTimeoutMs ${value}: a positive integer, at most ${MAX_TIMER_MS}`,
      "closeTimeoutMs",
      source,
    );
  }
  return value;
}

/**
 * Resolves with true when `work` settles within `ms`, false when `ms` passes first (`work` goes on, and its
 * rejection is ignored).
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Closes a connection we opened: drains it (what is buffered goes out, subscriptions end in order) when the
 * server answers within `timeoutMs`, otherwise closes it hard (`nc.close()`), which stops nats.js
 * reconnecting. A drain waits for the server's answer to a flush: while the server is away nats.js rejects
 * it at its next dial and goes on reconnecting (forever, as `connectNats` configures it), and behind a
 * partition it waits until the connection is found stale, minutes later. Either way the process could not
 * exit, so a drain that fails or does not finish in time is followed by `close()` (ADR 0146).
 */
export async function drainOrClose(nc: NatsConnection, timeoutMs: number): Promise<void> {
  if (nc.isClosed()) return;
  let drained = false;
  const draining = nc.isDraining()
    ? nc.closed()
    : nc.drain().then(() => {
        drained = true;
      });
  await settlesWithin(draining, timeoutMs);
  if (!drained && !nc.isClosed()) await nc.close().catch(() => {});
}
