/** How records are grouped into batches: whichever limit is reached first closes a batch. */
export interface BatchLimits {
  readonly maxEvents: number;
  /** How long a batch waits for more after its first record. */
  readonly maxWaitMs: number;
}

const TIMED_OUT = Symbol("timed out");

/**
 * Groups `source` into batches of at most `maxEvents`, each closed at most `maxWaitMs` after its first record
 * arrived. Backpressure is kept: the source is asked for the next record only while a batch has room, and a
 * record requested when a batch timed out starts the next batch. Ends when the source ends; a source failure
 * closes the batch in progress and is thrown when the next one is asked for.
 */
export async function* batches<T>(source: AsyncIterable<T>, limits: BatchLimits): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined;
  try {
    for (;;) {
      const first = await (pending ?? iterator.next());
      pending = undefined;
      if (first.done) return;
      const batch = [first.value];
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(resolve, limits.maxWaitMs, TIMED_OUT);
      });
      let ended = false;
      try {
        while (batch.length < limits.maxEvents) {
          pending = iterator.next();
          // It may fail while the batch is with the caller; the failure is seen when the next batch awaits it.
          pending.catch(() => {});
          const next = await Promise.race([pending, deadline]).catch((): typeof TIMED_OUT => TIMED_OUT);
          if (next === TIMED_OUT) break;
          pending = undefined;
          if (next.done) {
            ended = true;
            break;
          }
          batch.push(next.value);
        }
      } finally {
        clearTimeout(timer);
      }
      yield batch;
      if (ended) return;
    }
  } finally {
    // A request still in flight settles on its own; the iterator closes once it has.
    if (pending === undefined) await iterator.return?.();
    else void pending.then(() => iterator.return?.()).catch(() => {});
  }
}
