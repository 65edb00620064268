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
 * (it keeps running); the old one stops after the swap.
 * @example
 * await blueGreen({ current: totalsV1, next: totalsV2, swap: () => pool.query("ALTER VIEW ...") });
 */
export async function blueGreen<E>(options: BlueGreenOptions<E>): Promise<void> {
  const { current, next, signal } = options;
  next.start();
  await next.whenCaughtUp(signal);
  await options.swap();
  await current.stop();
}
