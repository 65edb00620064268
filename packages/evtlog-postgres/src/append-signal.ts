/**
 * Wakes live by-type readers when events of their type may have been appended: by this process's
 * committer at once, by other processes through LISTEN/NOTIFY, and by a poll timer as the fallback.
 *
 * `version` lets a reader close the race between "my query found nothing new" and "I start waiting":
 * it notes the version before querying and waits only if nothing was signalled since.
 */
export class AppendSignal {
  #version = 0;
  #waiters = new Set<{ type: string; wake: () => void }>();

  get version(): number {
    return this.#version;
  }

  /** Signals appends of `types` (`"*"` means any type). */
  signal(types: Iterable<string>): void {
    const set = new Set(types);
    this.#version++;
    for (const waiter of this.#waiters) {
      if (set.has("*") || set.has(waiter.type)) waiter.wake();
    }
  }

  /** Signals every reader (e.g. the listener reconnected and may have missed notifications). */
  signalAll(): void {
    this.signal(["*"]);
  }

  /** Resolves when `type` is signalled, after `timeoutMs`, or when any of `signals` aborts. */
  wait(type: string, timeoutMs: number, signals: readonly (AbortSignal | undefined)[]): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiter = { type, wake: () => done() };
      const timer = setTimeout(() => done(), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        for (const signal of signals) signal?.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.add(waiter);
      for (const signal of signals) signal?.addEventListener("abort", done, { once: true });
      if (signals.some((signal) => signal?.aborted)) done();
    });
  }
}
