import { withArrayLiterals } from "./array-literal.js";
import { entityKey, type PendingPersist } from "./pending-persist.js";
import { persistOneParams } from "./persist-one-statement.js";
import { allSingleEvents, persistSingleEventsParams } from "./persist-single-events-statement.js";
import { persistParams } from "./persist-statement.js";

/**
 * The next batch out of `queue`: FIFO, at most one persist per entity and none of an entity in `writing`
 * (those wait for a later batch), at most `maxBatchSize` persists and `maxBatchEvents` events (a single
 * larger persist still goes alone). The batch's entities are added to `writing`; `rest` is what stays
 * queued, in order.
 */
export function takeBatch(
  queue: readonly PendingPersist[],
  maxBatchSize: number,
  maxBatchEvents: number,
  writing: Set<string>,
): { batch: PendingPersist[]; rest: PendingPersist[] } {
  const batch: PendingPersist[] = [];
  const rest: PendingPersist[] = [];
  let events = 0;
  for (const persist of queue) {
    const key = entityKey(persist);
    const fits =
      batch.length < maxBatchSize &&
      (batch.length === 0 || events + persist.evts.length <= maxBatchEvents) &&
      !writing.has(key);
    if (fits) {
      batch.push(persist);
      writing.add(key);
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
 * The parameters of the statement that writes `batch`: the one-event statement for `only`, the
 * single-events statement when every persist has one event, else the batch statement; arrays already
 * written as literals (see `array-literal.ts`). `runBatchStatement` picks the statement by the same rule.
 */
export function batchValues(
  batch: readonly PendingPersist[],
  only: PendingPersist | undefined,
  lockKey: string,
  lock: boolean,
): unknown[] {
  if (only !== undefined) return persistOneParams(only, lockKey, lock);
  return withArrayLiterals(
    allSingleEvents(batch)
      ? persistSingleEventsParams(batch, lockKey, lock)
      : persistParams(batch, lockKey, lock),
  );
}
