import type { Backoff, Logger } from "@eventsourced/core";
import { describe } from "./batch-processor.js";
import { delay } from "./delay.js";

/**
 * One tenure of a lease, as a projection uses it. `Lease` from `@eventsourced/leases` satisfies it: validity is
 * local and monotonic (renewal sent + TTL − margin), and the epoch grows with every tenure of the key.
 */
export interface ProjectionLease {
  /** The fencing token: the projection's checkpoint compare-and-set includes it. */
  readonly epoch: number;
  /** True while held and before its local deadline; asked right before each batch is handed to the handler. */
  isValid(): boolean;
  /** Resolves once, when the lease is lost or released. */
  readonly whenEnded: Promise<unknown>;
  /** Gives the lease up so a standby instance can take over at once. */
  release(): Promise<void>;
}

/**
 * What a projection needs to hold its lease: `LeaseKeeper` from `@eventsourced/leases` satisfies it (a
 * PostgreSQL row expiring on `clock_timestamp()`, or a NATS KV key under bucket TTL, renewed every third of
 * the TTL). One keeper may serve many projections of a process.
 * @example
 * const keeper = new LeaseKeeper(await PostgresLeaseStore.create({ pool, ttlMs: 5_000 }));
 * Projection.create({ ..., lease: keeper });
 */
export interface ProjectionLeaseKeeper {
  /** Resolves once the lease on `key` is held, waiting while another owner holds it; rejects when `signal` aborts. */
  acquire(key: string, options?: { readonly signal?: AbortSignal | undefined }): Promise<ProjectionLease>;
}

/** The lease key of a projection: `projection.<name>`. */
export function projectionLeaseKey(name: string): string {
  return `projection.${name}`;
}

/** A tenure being used, and a signal aborted when it ends. */
export interface HeldTenure {
  readonly tenure: ProjectionLease;
  readonly lost: AbortSignal;
}

/**
 * Waits for the projection's lease (`undefined` when `signal` aborts first); failures of the keeper are
 * logged and retried with backoff.
 */
export async function acquireLease(
  keeper: ProjectionLeaseKeeper,
  name: string,
  signal: AbortSignal,
  backoff: Backoff,
  logger: Logger,
): Promise<HeldTenure | undefined> {
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
