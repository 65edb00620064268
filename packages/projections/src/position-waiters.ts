interface Waiter {
  readonly position: number;
  resolve(): void;
  reject(err: unknown): void;
}

/** Callers waiting for a projection to reach a position; settled as the position advances or it stops. */
export class PositionWaiters {
  #waiters: Waiter[] = [];

  /** Resolves once {@link advance} reports `position` or beyond; rejects on {@link failAll} or `signal`. */
  wait(position: number, current: number, signal?: AbortSignal): Promise<void> {
    if (current >= position) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    let d!: { resolve: () => void; reject: (err: unknown) => void };
    const promise = new Promise<void>((resolve, reject) => {
      d = { resolve, reject };
    });
    const onAbort = () => {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      d.reject(signal?.reason);
    };
    const waiter: Waiter = {
      position,
      resolve: () => {
        signal?.removeEventListener("abort", onAbort);
        d.resolve();
      },
      reject: (err) => {
        signal?.removeEventListener("abort", onAbort);
        d.reject(err);
      },
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#waiters.push(waiter);
    return promise;
  }

  /** Resolves every waiter at or below `position`. */
  advance(position: number): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.position <= position) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  /** Rejects every waiter (the projection stopped or failed). */
  failAll(err: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(err);
  }
}
