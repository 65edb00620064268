import { withArrayLiterals } from "./array-literal.js";
import type { PendingPersist } from "./pending-persist.js";
import { persistOneParams } from "./persist-one-statement.js";
import { persistParams } from "./persist-statement.js";

/**
 * The next batch out of `queue`: FIFO, at most one persist per entity (a second one waits for the next
 * batch), at most `maxBatchSize` persists and `maxBatchEvents` events (a single larger persist still goes
 * alone). `rest` is what stays queued, in order.
 */
export function takeBatch(
  queue: readonly PendingPersist[],
  maxBatchSize: number,
  maxBatchEvents: number,
): { batch: PendingPersist[]; rest: PendingPersist[] } {
  const batch: PendingPersist[] = [];
  const rest: PendingPersist[] = [];
  const entities = new Set<string>();
  let events = 0;
  for (const persist of queue) {
    const key = `${persist.type}\u0000${persist.id}`;
    const fits =
      batch.length < maxBatchSize &&
      (batch.length === 0 || events + persist.evts.length <= maxBatchEvents) &&
      !entities.has(key);
    if (fits) {
      batch.push(persist);
      entities.add(key);
      events += persist.evts.length;
    } else {
      rest.push(persist);
    }
  }
  return { batch, rest };
}

/** The batch's persist when it is a single persist of one event (written by the one-event statement). */
export function soleEvent(batch: readonly PendingPersist[]): PendingPersist | undefined {
  return batch.length === 1 && batch[0]!.evts.length === 1 ? batch[0]! : undefined;
}

/**
 * The parameters of the statement that writes `batch`: the one-event statement for `only`, else the batch
 * statement, its arrays already written as literals (see `array-literal.ts`).
 */
export function batchValues(
  batch: readonly PendingPersist[],
  only: PendingPersist | undefined,
  lockKey: string,
  lock: boolean,
): unknown[] {
  return only !== undefined
    ? persistOneParams(only, lockKey, lock)
    : withArrayLiterals(persistParams(batch, lockKey, lock));
}
