import { type Deferred, deferred } from "../deferred.js";

/**
 * The registry's cap on resident entities. A place is held from the moment an entity starts recovering
 * until its stop has completed, so entities being recovered or stopped count toward the limit and memory
 * stays bounded during bursts. Entities that find no place wait in arrival order; a released place goes to
 * the longest waiter directly.
 */
export class ActiveLimit {
  /** The most places that may be held; `Infinity` for no limit. */
  readonly max: number;
  #held = 0;
  #queue: (Deferred<void> | undefined)[] = [];
  #head = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Places held now. */
  get held(): number {
    return this.#held;
  }

  /** Entities waiting for a place. */
  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /** Resolves once a place is held for the caller; rejects when {@link rejectAll} is called first. */
  acquire(): Promise<void> {
    if (this.#held < this.max) {
      this.#held++;
      return Promise.resolve();
    }
    const waiter = deferred<void>();
    this.#queue.push(waiter);
    return waiter.promise;
  }

  /** Gives a place back: to the longest waiter, if any. */
  release(): void {
    if (this.#head < this.#queue.length) {
      const next = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      next.resolve();
    } else {
      this.#held--;
    }
  }

  /** Fails every waiter with `error` (the registry closes). */
  rejectAll(error: () => unknown): void {
    const waiters = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    for (const waiter of waiters) waiter?.reject(error());
  }
}
