import type { Backoff, Logger } from "@eventsourced/core";
import { describe } from "./batch-processor.js";
import { delay } from "./delay.js";
import type { ProjectionStore } from "./projection-store.js";

/** Persists status `failed` with the reason `err` for projection `name`, retrying the store until stopped. */
export async function storeFailure(
  store: ProjectionStore,
  name: string,
  err: Error,
  signal: AbortSignal,
  backoff: Backoff,
  logger: Logger,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await store.setStatus(name, "failed", describe(err));
      return;
    } catch (storeErr) {
      logger.warn("cannot record the projection's failure; retrying", {
        projection: name,
        error: describe(storeErr),
      });
      await delay(backoff.next(), signal);
    }
  }
}
