/** How records are grouped into batches: whichever limit is reached first closes a batch. */
export interface BatchLimits {
  readonly maxEvents: number;
  /** How long a batch waits for more after its first record. */
  readonly maxWaitMs: number;
}

const TIMED_OUT = Symbol("timed out");

/** One collected batch; whether the source ended (or failed) after it; a record still being read. */
interface Collected<T> {
  readonly batch: T[];
  readonly ended: boolean;
  readonly error?: unknown;
  /** The read a batch closed by its deadline left outstanding: it opens the next batch. */
  readonly carried?: Promise<IteratorResult<T>> | undefined;
}

/**
 * Groups `source` into batches of at most `maxEvents`, each closed at most `maxWaitMs` after its first record
 * arrived. While the caller works on one batch the next one is collected (so reading and applying overlap),
 * and no further: at most two batches are held, the source is not asked for more meanwhile. Ends when the
 * source ends; a source failure closes the batch in progress and is thrown after it was handed over.
 */
export async function* batches<T>(source: AsyncIterable<T>, limits: BatchLimits): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  let next: Promise<Collected<T>> | undefined = collect(iterator, limits, undefined);
  try {
    while (next !== undefined) {
      const collected: Collected<T> = await next;
      const { batch, ended, error, carried } = collected;
      next = ended ? undefined : collect(iterator, limits, carried);
      if (batch.length > 0) yield batch;
      if (error !== undefined) throw error;
    }
  } finally {
    // The caller stopped early: close the source once the batch being collected is complete.
    const pending = next;
    next = undefined;
    if (pending === undefined) await iterator.return?.();
    else void pending.then(() => iterator.return?.()).catch(() => {});
  }
}

async function collect<T>(
  iterator: AsyncIterator<T>,
  limits: BatchLimits,
  carried: Promise<IteratorResult<T>> | undefined,
): Promise<Collected<T>> {
  let first: IteratorResult<T>;
  try {
    first = await (carried ?? iterator.next());
  } catch (error) {
    return { batch: [], ended: true, error };
  }
  if (first.done) return { batch: [], ended: true };
  const batch = [first.value];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, limits.maxWaitMs, TIMED_OUT);
  });
  try {
    while (batch.length < limits.maxEvents) {
      const pending = iterator.next();
      // It may fail while it waits for the next batch; that batch sees the failure when it awaits it.
      pending.catch(() => {});
      const next = await Promise.race([pending, deadline]);
      if (next === TIMED_OUT) return { batch, ended: false, carried: pending };
      if (next.done) return { batch, ended: true };
      batch.push(next.value);
    }
    return { batch, ended: false };
  } catch (error) {
    return { batch, ended: true, error };
  } finally {
    clearTimeout(timer);
  }
}
