import { InvalidArgumentError, type NewEvt } from "@eventsourced/core";

/**
 * Checks that every event can be written as it is, so that a bad event is refused at the call with
 * `InvalidArgumentError`, before it joins a batch: bytes must be a `Uint8Array`, the content type a string,
 * and the metadata must serialise to JSON (a `bigint` or a cycle does not).
 */
export function validateNewEvts(evts: readonly NewEvt[]): void {
  if (!Array.isArray(evts) || evts.length === 0) {
    throw new InvalidArgumentError("cannot persist an empty batch of events");
  }
  evts.forEach((evt, index) => {
    if (!(evt?.bytes instanceof Uint8Array)) {
      throw new InvalidArgumentError(`event ${index}: bytes must be a Uint8Array`);
    }
    if (evt.contentType !== undefined && typeof evt.contentType !== "string") {
      throw new InvalidArgumentError(`event ${index}: contentType must be a string`);
    }
    if (evt.metadata !== undefined) {
      try {
        JSON.stringify(evt.metadata);
      } catch (cause) {
        throw new InvalidArgumentError(
          `event ${index}: metadata cannot be stored as JSON: ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause },
        );
      }
    }
  });
}
