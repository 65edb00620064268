import { InvalidArgumentError } from "@eventsourced/core";
import type { Projection } from "./projection.js";

/** Options of {@link blueGreen}. */
export interface BlueGreenOptions<E> {
  /** The version serving reads now (left running until the swap). */
  readonly current: Projection<E>;
  /** The new version, under a new name (its own checkpoint and read model), started here if it is not yet. */
  readonly next: Projection<E>;
  /**
   * Points readers at the new read model (rename tables, switch a view, flip a flag); called once `next`
   * caught up with the log's head as of that moment.
   */
  swap(): Promise<void>;
  readonly signal?: AbortSignal | undefined;
}

/**
 * A rebuild without read downtime: the new version catches up beside the old one, then `swap` switches the
 * readers over and the old version stops. Events arriving during the swap are applied by the new version
 * (it keeps running); the old one stops after the swap. Rejects with `InvalidArgumentError`, before
 * starting anything, when `current` and `next` are the same projection or share a name (one checkpoint),
 * when `swap` is not a function or `signal` not an `AbortSignal`.
 * @example
 * await blueGreen({ current: totalsV1, next: totalsV2, swap: () => pool.query("ALTER VIEW ...") });
 */
export async function blueGreen<E>(options: BlueGreenOptions<E>): Promise<void> {
  const { current, next, signal } = options ?? ({} as BlueGreenOptions<E>);
  if (typeof current?.start !== "function" || typeof next?.start !== "function") {
    throw new InvalidArgumentError("blueGreen needs the current and the next Projection");
  }
  if (current === next || current.name === next.name) {
    throw new InvalidArgumentError(
      `blueGreen: next must be a new version under a new name (both are ${JSON.stringify(next.name)})`,
    );
  }
  if (typeof options.swap !== "function")
    throw new InvalidArgumentError("blueGreen: swap must be a function");
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError("blueGreen: signal must be an AbortSignal");
  }
  next.start();
  await next.whenCaughtUp(signal);
  await options.swap();
  await current.stop();
}
