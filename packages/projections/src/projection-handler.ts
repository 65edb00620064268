import type { ProjectedEvt } from "./projected-evt.js";
import type { Advance, DeadLetter, Fence, ProjectionStore } from "./projection-store.js";

/**
 * How a projection applies batches and keeps its checkpoint; made by `exactlyOnce()` (PostgreSQL, from
 * `@eventsourced/projections/postgres`) or {@link atLeastOnce}. A `Projection` drives it: one call at a time.
 */
export interface ProjectionHandler<E> {
  readonly guarantee: "exactly-once" | "at-least-once";
  /** Where the checkpoint, status and dead letters live. */
  readonly store: ProjectionStore;
  /** An instance (re)starts from the stored checkpoint `fence`: anything still pending is dropped. */
  begin(fence: Fence): void;
  /**
   * Applies `evts` (possibly none, when only dead letters or skipped events move the checkpoint) and moves
   * the checkpoint to `advance`: in one transaction for exactly-once; for at-least-once the events are
   * handled now and the checkpoint saved when due.
   */
  apply(evts: readonly ProjectedEvt<E>[], advance: Advance): Promise<void>;
  /** Saves a checkpoint that `apply` deferred. */
  flush(): Promise<void>;
  /** The position stored as the checkpoint. */
  readonly storedPosition: number;
  /** The handler's own reset, the checkpoint back to 0 and the dead letters removed (atomically when possible). */
  rebuild(): Promise<void>;
  /** Applies one dead-lettered event again and deletes its dead letter (atomically when possible). */
  redrive(evt: ProjectedEvt<E>, letter: DeadLetter): Promise<void>;
  /** Stops timers; nothing is saved. */
  end(): void;
}
