import { InvalidArgumentError } from "@eventsourced/core";

/**
 * One JetStream message holds all events of one persist, so the stream sequence alone cannot order events.
 * A by-type position is `streamSeq * 2^16 + indexInMessage`: unique and strictly increasing per event, and
 * still below `Number.MAX_SAFE_INTEGER` for stream sequences up to 2^37 (about 137 billion messages).
 */
export const EVTS_PER_MESSAGE_BITS = 16;

/** The most events one persist (one command) may carry on NATS: 65,536. */
export const MAX_EVTS_PER_PERSIST: number = 2 ** EVTS_PER_MESSAGE_BITS;

const FACTOR = MAX_EVTS_PER_PERSIST;

/** The position of the event at `index` in the message with stream sequence `streamSeq`. */
export function toPosition(streamSeq: number, index: number): number {
  return streamSeq * FACTOR + index;
}

/** Where a reader resuming strictly after `position` starts: a stream sequence and the first index in it. */
export function resumePoint(position: number): { readonly streamSeq: number; readonly index: number } {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new InvalidArgumentError(`invalid position ${position}: must be a non-negative safe integer`);
  }
  if (position === 0) return { streamSeq: 1, index: 0 };
  return { streamSeq: Math.floor(position / FACTOR), index: (position % FACTOR) + 1 };
}
