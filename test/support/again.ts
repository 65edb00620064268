import { isEventSourcedError } from "@eventsourced/core";

/**
 * Calls `call` until it succeeds, again 100 ms after each failure with error code `code` (up to 50 times),
 * as a keeper or rebalancer does: a request sent before nats.js has reconnected is lost too. Any other
 * failure, or the 50th, is thrown.
 */
export async function again<T>(code: string, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isEventSourcedError(err, code) || attempt === 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
