/**
 * Acquirers waiting for a key to be released, woken by whatever observes releases (the in-memory store
 * directly, the NATS store through a bucket watch). Internal to this package.
 */
export class ReleaseWaiters {
  readonly #byKey = new Map<string, Set<() => void>>();

  /** Resolves on {@link wake} of `key` or when `signal` aborts; never rejects. */
  wait(key: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const finish = () => {
        signal.removeEventListener("abort", finish);
        const waiters = this.#byKey.get(key);
        waiters?.delete(finish);
        if (waiters?.size === 0) this.#byKey.delete(key);
        resolve();
      };
      signal.addEventListener("abort", finish, { once: true });
      let waiters = this.#byKey.get(key);
      if (waiters === undefined) {
        waiters = new Set();
        this.#byKey.set(key, waiters);
      }
      waiters.add(finish);
    });
  }

  /** Wakes every waiter of `key`. */
  wake(key: string): void {
    const waiters = this.#byKey.get(key);
    if (waiters === undefined) return;
    for (const finish of [...waiters]) finish();
  }

  /** Wakes everyone (the store is closing). */
  wakeAll(): void {
    for (const key of [...this.#byKey.keys()]) this.wake(key);
  }

  /** Whether anyone waits, so an observer can stop when nobody needs it. */
  get size(): number {
    return this.#byKey.size;
  }
}
