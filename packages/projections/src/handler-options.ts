import { InvalidArgumentError } from "@eventsourced/core";

/**
 * Checks the options of `atLeastOnce` and `exactlyOnce` when the handler is made: a `store` with the
 * checkpoint methods, a `handle` function and an optional `reset` function. Without this, a missing
 * `handle` would fail every batch in the background, and every event would end as a dead letter.
 * Throws `InvalidArgumentError` naming the option and the factory.
 */
export function validateHandlerOptions(factory: string, store: unknown, options: unknown): void {
  if (typeof (store as { load?: unknown } | null | undefined)?.load !== "function") {
    throw new InvalidArgumentError(`${factory}: store must be a ProjectionStore`);
  }
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`${factory}: options must be an object, got ${String(options)}`);
  }
  const { handle, reset } = options as { handle?: unknown; reset?: unknown };
  if (typeof handle !== "function") {
    throw new InvalidArgumentError(`${factory}: handle must be a function, got ${typeof handle}`);
  }
  if (reset !== undefined && typeof reset !== "function") {
    throw new InvalidArgumentError(`${factory}: reset must be a function, got ${typeof reset}`);
  }
}
