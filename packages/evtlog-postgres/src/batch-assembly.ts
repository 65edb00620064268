import { withArrayLiterals } from "./array-literal.js";
import { entityKey, type PendingPersist } from "./pending-persist.js";
import { persistOneParams } from "./persist-one-statement.js";
import {
  allAdvances,
  allSingleEvents,
  persistSingleEventsParams,
} from "./persist-single-events-statement.js";
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

/**
 * Which statement writes a batch, decided once per batch: `one` for a single unfenced persist of one event
 * (the one-event statement), `advances` when every persist has one event and expects a last seqNo above 0
 * (the advances statement), `singles` when every persist has one event (the single-events statement), else
 * `general` (the batch statement); `fenced` when a persist carries a fence (the statement's fenced variant).
 */
export type BatchShape =
  | { readonly kind: "one"; readonly only: PendingPersist }
  | { readonly kind: "advances" | "singles" | "general"; readonly fenced: boolean };

/** The {@link BatchShape} of `batch`. */
export function batchShape(batch: readonly PendingPersist[]): BatchShape {
  const fenced = batch.some((p) => p.fence !== undefined);
  if (!fenced && batch.length === 1 && batch[0]!.evts.length === 1) return { kind: "one", only: batch[0]! };
  if (!allSingleEvents(batch)) return { kind: "general", fenced };
  return { kind: allAdvances(batch) ? "advances" : "singles", fenced };
}

/**
 * The parameters of the statement that writes `batch` of shape `shape`, arrays already written as literals
 * (see `array-literal.ts`).
 */
export function batchValues(batch: readonly PendingPersist[], shape: BatchShape, lockKey: string): unknown[] {
  if (shape.kind === "one") return persistOneParams(shape.only, lockKey);
  return withArrayLiterals(
    shape.kind === "singles" || shape.kind === "advances"
      ? persistSingleEventsParams(batch, lockKey, shape.fenced)
      : persistParams(batch, lockKey, shape.fenced),
  );
}
