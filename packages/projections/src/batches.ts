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
 * Whether the caller is waiting for the batch being collected. While it is busy with the previous batch the
 * next one keeps growing (up to `maxEvents`), however long ago its first record came: batches grow with the
 * load, as in a group commit, and shrink back to `maxWaitMs` worth of records when the caller keeps up.
 */
class Demand {
  waiting = false;
  #asked!: () => void;
  /** Resolves when the caller starts waiting. */
  asked: Promise<typeof ASKED> = this.#fresh();

  ask(): void {
    this.waiting = true;
    this.#asked();
  }

  satisfied(): void {
    this.waiting = false;
    this.asked = this.#fresh();
  }

  #fresh(): Promise<typeof ASKED> {
    return new Promise((resolve) => {
      this.#asked = () => resolve(ASKED);
    });
  }
}

const ASKED = Symbol("asked");

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
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, limits.maxWaitMs, TIMED_OUT);
  });
  let pending: Promise<IteratorResult<T>> | undefined;
  try {
    while (batch.length < limits.maxEvents) {
      if (late && demand.waiting) return { batch, ended: false, carried: pending };
      if (pending === undefined) {
        pending = iterator.next();
        // It may fail while it waits for the next batch; that batch sees the failure when it awaits it.
        pending.catch(() => {});
      }
      // Only promises that can still settle take part: a race leaves a reaction on each until it does.
      const racers: Promise<IteratorResult<T> | typeof TIMED_OUT | typeof ASKED>[] = [pending];
      if (!late) racers.push(deadline);
      if (!demand.waiting) racers.push(demand.asked);
      const next = await Promise.race(racers);
      if (next === TIMED_OUT) {
        late = true;
        continue;
      }
      if (next === ASKED) continue;
      pending = undefined;
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
