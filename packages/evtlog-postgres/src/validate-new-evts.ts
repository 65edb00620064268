import { InvalidArgumentError, type NewEvt, validateEvtMetadata } from "@eventsourced/core";

/**
 * Checks that every event can be written as it is, so that a bad event is refused at the call with
 * `InvalidArgumentError`, before it joins a batch (whose other persists a failing statement would fail
 * with it): bytes must be a `Uint8Array`, the content type a string, and the metadata valid `EvtMetadata`
 * (core's `validateEvtMetadata`: string members only, no NUL or lone surrogate, which `jsonb` refuses).
 */
export function validateNewEvts(evts: readonly NewEvt[]): void {
  if (!Array.isArray(evts) || evts.length === 0) {
    throw new InvalidArgumentError("cannot persist an empty batch of events");
  }
  evts.forEach((evt, index) => {
    if (!(evt?.bytes instanceof Uint8Array)) {
      throw new InvalidArgumentError(`event ${index}: bytes must be a Uint8Array`);
    }
    const { contentType } = evt;
    if (contentType !== undefined && typeof contentType !== "string") {
      throw new InvalidArgumentError(`event ${index}: contentType must be a string`);
    }
    if (contentType !== undefined && (contentType.includes("\0") || !contentType.isWellFormed())) {
      throw new InvalidArgumentError(
        `event ${index}: contentType must be well-formed Unicode without NUL (PostgreSQL text cannot hold it)`,
      );
    }
    if (evt.metadata !== undefined) validateEvtMetadata(evt.metadata, index);
  });
}
