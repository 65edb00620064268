/** How records are grouped into batches: whichever limit is reached first closes a batch. */
export interface BatchLimits {
  readonly maxEvents: number;
  /** How long a batch waits for more after its first record. */
  readonly maxWaitMs: number;
}

/** One collected batch; whether the source ended (or failed) after it; a record still being read. */
interface Collected<T> {
  readonly batch: T[];
  readonly ended: boolean;
  readonly error?: unknown;
  /** The read a batch closed by its deadline left outstanding: it opens the next batch. */
  readonly carried?: Promise<IteratorResult<T>> | undefined;
}

/**
 * Whether the caller is waiting for the batch being collected. While it is busy with the previous batch the
 * next one keeps growing (up to `maxEvents`), however long ago its first record came: batches grow with the
 * load, as in a group commit, and shrink back to `maxWaitMs` worth of records when the caller keeps up.
 */
class Demand {
  waiting = false;
  #listener: (() => void) | undefined;

  ask(): void {
    this.waiting = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }

  satisfied(): void {
    this.waiting = false;
  }

  /** Calls `listener` once, at the next `ask` (one listener at a time: the batch being collected). */
  onAsk(listener: () => void): void {
    this.#listener = listener;
  }
}

/**
 * Groups `source` into batches of at most `maxEvents`. A batch is handed over once the caller asks for it and
 * `maxWaitMs` have passed since its first record, or as soon as it is full. While the caller works on one batch
 * the next one is collected (so reading and applying overlap, and a busy caller gets bigger batches), and no
 * further: at most two batches are held. Ends when the source ends; a source failure closes the batch in
 * progress and is thrown after it was handed over.
 */
export async function* batches<T>(source: AsyncIterable<T>, limits: BatchLimits): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  const demand = new Demand();
  let next: Promise<Collected<T>> | undefined = collect(iterator, limits, undefined, demand);
  try {
    while (next !== undefined) {
      demand.ask();
      const collected: Collected<T> = await next;
      demand.satisfied();
      const { batch, ended, error, carried } = collected;
      next = ended ? undefined : collect(iterator, limits, carried, demand);
      if (batch.length > 0) yield batch;
      if (error !== undefined) throw error;
    }
  } finally {
    // The caller stopped early: close the source once the batch being collected is complete.
    const pending = next;
    next = undefined;
    demand.ask();
    if (pending === undefined) await iterator.return?.();
    else void pending.then(() => iterator.return?.()).catch(() => {});
  }
}

/**
 * Collects one batch. Records are taken by callback, one `then` per record: no `Promise.race` per record (with
 * its array and a reaction left on the deadline and on the demand each time), which cost more than anything
 * else per event while a projection catches up (ADR 0037).
 */
async function collect<T>(
  iterator: AsyncIterator<T>,
  limits: BatchLimits,
  carried: Promise<IteratorResult<T>> | undefined,
  demand: Demand,
): Promise<Collected<T>> {
  let first: IteratorResult<T>;
  try {
    first = await (carried ?? iterator.next());
  } catch (error) {
    return { batch: [], ended: true, error };
  }
  if (first.done) return { batch: [], ended: true };
  const batch = [first.value];
  return new Promise<Collected<T>>((resolve) => {
    let done = false;
    let late = false;
    let pending: Promise<IteratorResult<T>> | undefined;
    const finish = (collected: Collected<T>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(collected);
    };
    // Handed over with the read still outstanding: the next batch starts with it.
    const handOver = () => finish({ batch, ended: false, carried: pending });
    const received = (next: IteratorResult<T>) => {
      if (done) return; // carried into the next batch, which awaits it itself
      pending = undefined;
      if (next.done) return finish({ batch, ended: true });
      batch.push(next.value);
      pull();
    };
    const failed = (error: unknown) => {
      if (!done) finish({ batch, ended: true, error });
    };
    const pull = () => {
      if (batch.length >= limits.maxEvents) return finish({ batch, ended: false });
      if (late && demand.waiting) return handOver();
      pending = iterator.next();
      pending.then(received, failed);
    };
    const timer = setTimeout(() => {
      late = true;
      if (demand.waiting) handOver();
      else demand.onAsk(handOver);
    }, limits.maxWaitMs);
    pull();
  });
}
