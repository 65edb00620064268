import type { Backoff, Logger } from "@eventsourced/core";
import { describe } from "./batch-processor.js";
import { delay } from "./delay.js";
import { type ProjectionLease, type ProjectionLeaseKeeper, projectionLeaseKey } from "./lease.js";
import type { ProjectionStore } from "./projection-store.js";

// The steps of a projection's loop that retry with backoff until they succeed or the instance stops.

/** A tenure of the projection's lease, and a signal aborted when it ends. */
export interface HeldLease {
  readonly tenure: ProjectionLease;
  readonly lost: AbortSignal;
}

/** Waits for the lease of projection `name` (undefined when stopped first); keeper failures are retried. */
export async function acquireLease(
  keeper: ProjectionLeaseKeeper,
  name: string,
  signal: AbortSignal,
  backoff: Backoff,
  logger: Logger,
): Promise<HeldLease | undefined> {
  while (!signal.aborted) {
    try {
      const tenure = await keeper.acquire(projectionLeaseKey(name), { signal });
      const lost = new AbortController();
      void tenure.whenEnded.then(() => lost.abort());
      return { tenure, lost: lost.signal };
    } catch (err) {
      if (signal.aborted) return undefined;
      logger.warn("projection cannot acquire its lease; retrying", {
        projection: name,
        error: describe(err),
      });
      await delay(backoff.next(), signal);
    }
  }
  return undefined;
}

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
