import type { ProjectionLease, ProjectionLeaseKeeper } from "../lease.js";

interface Tenure {
  readonly owner: string;
  readonly epoch: number;
  end(): void;
}

/**
 * Leases in one process for unit tests: keepers share this registry, a key has one holder at a time, and
 * every tenure gets a higher epoch. Leases do not expire by themselves: {@link expire} ends one as if its
 * owner had stopped renewing (its `isValid()` turns false, `whenEnded` resolves), which lets a waiting keeper
 * take over. Cross-process behaviour needs a real store (`@eventsourced/leases`).
 */
export class InMemoryLeases {
  readonly #held = new Map<string, Tenure>();
  readonly #epochs = new Map<string, number>();

  /** A keeper for `owner`; `pollMs` is how often it retries a held key. */
  keeper(owner: string, pollMs = 5): ProjectionLeaseKeeper {
    return {
      acquire: async (key, options) => {
        for (;;) {
          options?.signal?.throwIfAborted();
          const lease = this.#tryAcquire(key, owner);
          if (lease !== undefined) return lease;
          await new Promise((resolve) => setTimeout(resolve, pollMs));
        }
      },
    };
  }

  /** Ends the current tenure of `key` as a passed deadline would. */
  expire(key: string): void {
    this.#held.get(key)?.end();
  }

  /** The owner holding `key`, if any. */
  holder(key: string): string | undefined {
    return this.#held.get(key)?.owner;
  }

  #tryAcquire(key: string, owner: string): ProjectionLease | undefined {
    if (this.#held.has(key)) return undefined;
    const epoch = (this.#epochs.get(key) ?? 0) + 1;
    this.#epochs.set(key, epoch);
    let valid = true;
    let ended!: () => void;
    const whenEnded = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const tenure: Tenure = {
      owner,
      epoch,
      end: () => {
        valid = false;
        if (this.#held.get(key) === tenure) this.#held.delete(key);
        ended();
      },
    };
    this.#held.set(key, tenure);
    return { epoch, isValid: () => valid, whenEnded, release: async () => tenure.end() };
  }
}
