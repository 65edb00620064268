import type { Logger } from "@eventsourced/core";
import { LeaseKeeper, type LeaseStore } from "@eventsourced/leases";

/** The lease a counter run holds on its store (one key per store: the store is per schema or stream). */
const RUN_LEASE_KEY = "counter.run";

/** One tenure of the run lease: what the run's writes are fenced by (see `OpenedStores.runLease`). */
export interface RunTenure {
  readonly key: string;
  readonly owner: string;
  /** The lease's fencing token: a later run's tenure has a greater one. */
  readonly epoch: number;
}

/** A run's hold on its store; `release()` gives it up at once (a killed run's lease expires by its TTL). */
export interface RunLease {
  readonly tenure: RunTenure;
  release(): Promise<void>;
}

/**
 * Takes the store's run lease, waiting while another run holds it: two runs on one store would change each
 * other's counters, and neither could then check its own. Calls `onWaiting` with the holder once when it has
 * not got the lease within 250 ms, and `onLost` if the lease ends before `release()` (the store unreachable, or
 * this process paused, for longer than the TTL): another run may then start, and the writes fenced by the
 * lease's `tenure` are refused from then on. Rejects with `signal.reason` when the wait is given up.
 */
export async function takeRunLease(
  store: LeaseStore,
  options: {
    readonly signal: AbortSignal;
    readonly logger: Logger;
    readonly onWaiting: (holder: string) => void;
    readonly onLost: () => void;
  },
): Promise<RunLease> {
  let released = false;
  const keeper = new LeaseKeeper(store, {
    logger: options.logger,
    onLost: () => {
      if (!released) options.onLost();
    },
  });
  // Not taken at once: say who holds it (asked once, for the message only; not said once it is taken).
  let taken = false;
  const say = (holder: string) => {
    if (!taken) options.onWaiting(holder);
  };
  const waiting = setTimeout(() => {
    store.holder(RUN_LEASE_KEY).then(
      (holder) => say(holder?.owner ?? "a run whose lease has not expired yet"),
      () => say("unknown"),
    );
  }, 250);
  let tenure: RunTenure;
  try {
    const { key, owner, epoch } = await keeper.acquire(RUN_LEASE_KEY, { signal: options.signal });
    // A plain copy: a fenced view may freeze what it is given.
    tenure = { key, owner, epoch };
    taken = true;
  } catch (error) {
    await keeper.close();
    throw error;
  } finally {
    clearTimeout(waiting);
  }
  return {
    tenure,
    async release() {
      released = true;
      await keeper.close();
    },
  };
}
