import { validateHandlerOptions } from "../handler-options.js";
import type { ProjectedEvt } from "../projected-evt.js";
import type { ProjectionHandler } from "../projection-handler.js";
import type { Advance, DeadLetter, Fence } from "../projection-store.js";
import type { PgClientLike } from "./pg-like.js";
import type { PostgresProjectionStore } from "./postgres-projection-store.js";

/** What an exactly-once projection does with a batch, inside the checkpoint's transaction. */
export interface ExactlyOnceOptions<E> {
  /**
   * Writes the batch's effects with `tx` (a `pg` client inside the transaction; annotate it as
   * `pg.PoolClient` if you like). Throwing rolls everything back, checkpoint included.
   */
  handle(evts: readonly ProjectedEvt<E>[], tx: PgClientLike): Promise<void>;
  /** Clears the read model for a rebuild, in the same transaction that moves the checkpoint to 0. */
  reset?(tx: PgClientLike): Promise<void>;
}

/**
 * A handler whose writes and the checkpoint's compare-and-set (on the previous position and the lease
 * epoch) commit in one PostgreSQL transaction: each event's effects are committed exactly once, whatever
 * crashes when. A compare-and-set that finds the checkpoint elsewhere means another instance owns the
 * projection: the transaction rolls back and this instance stops with `ProjectionFencedError`.
 * @example
 * const handler = exactlyOnce(store, {
 *   handle: (evts, tx) => tx.query("INSERT INTO totals ... ON CONFLICT ... DO UPDATE ...", [...]),
 *   reset: (tx) => tx.query("TRUNCATE totals"),
 * });
 */
export function exactlyOnce<E>(
  store: PostgresProjectionStore,
  options: ExactlyOnceOptions<E>,
): ProjectionHandler<E> {
  return new ExactlyOnceHandler(store, options);
}

class ExactlyOnceHandler<E> implements ProjectionHandler<E> {
  readonly guarantee = "exactly-once" as const;
  readonly store: PostgresProjectionStore;
  readonly #options: ExactlyOnceOptions<E>;
  #fence: Fence = { name: "", epoch: 0, position: 0 };

  constructor(store: PostgresProjectionStore, options: ExactlyOnceOptions<E>) {
    validateHandlerOptions("exactlyOnce", store, options);
    this.store = store;
    this.#options = options;
  }

  get storedPosition(): number {
    return this.#fence.position;
  }

  begin(fence: Fence): void {
    this.#fence = fence;
  }

  async apply(evts: readonly ProjectedEvt<E>[], advance: Advance): Promise<void> {
    const fence = this.#fence;
    await this.store.commitWith(fence, advance, async (tx) => {
      if (evts.length > 0) await this.#options.handle(evts, tx);
    });
    this.#fence = { ...fence, position: advance.position };
  }

  async flush(): Promise<void> {}

  async rebuild(): Promise<void> {
    const fence = this.#fence;
    await this.store.transaction(async (tx) => {
      await this.#options.reset?.(tx);
      await this.store.rebuildIn(tx, fence);
    });
    this.#fence = { ...fence, position: 0 };
  }

  async redrive(evt: ProjectedEvt<E>, letter: DeadLetter): Promise<void> {
    await this.store.transaction(async (tx) => {
      await this.#options.handle([evt], tx);
      await this.store.deleteDeadLetterIn(tx, letter.projection, letter.position);
    });
  }

  end(): void {}
}
