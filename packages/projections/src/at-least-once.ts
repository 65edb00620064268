import { InvalidArgumentError, isEventSourcedError } from "@eventsourced/core";
import { CheckpointSaveError } from "./errors.js";
import { validateHandlerOptions } from "./handler-options.js";
import type { ProjectedEvt } from "./projected-evt.js";
import type { ProjectionHandler } from "./projection-handler.js";
import type { Advance, DeadLetter, Fence, ProjectionStore } from "./projection-store.js";

/** Options of {@link atLeastOnce}. */
export interface AtLeastOnceOptions<E> {
  /** Where the checkpoint lives: PostgreSQL, a NATS KV bucket, or memory. */
  readonly store: ProjectionStore;
  /** Applies a batch; its effects are its own business (an e-mail, an HTTP call, another database). */
  handle(evts: readonly ProjectedEvt<E>[]): Promise<void> | void;
  /** Clears the read model for a rebuild. */
  reset?: (() => Promise<void> | void) | undefined;
  /** Save the checkpoint once this many events were applied since the last save. Default 100. */
  readonly saveAfterEvents?: number | undefined;
  /** ...or once this much time passed since the last save. Default 500 ms. */
  readonly saveAfterMs?: number | undefined;
}

/**
 * A handler for side effects outside the checkpoint's store: each batch is handled, and the checkpoint is
 * saved (compare-and-set) after `saveAfterEvents` events or `saveAfterMs`, whichever comes first. After a
 * crash the events since the last save are handled again: duplicates, never losses, within that window.
 * @example
 * const handler = atLeastOnce({ store, handle: (evts) => mailer.send(evts), saveAfterEvents: 100 });
 */
export function atLeastOnce<E>(options: AtLeastOnceOptions<E>): ProjectionHandler<E> {
  return new AtLeastOnceHandler(options);
}

class AtLeastOnceHandler<E> implements ProjectionHandler<E> {
  readonly guarantee = "at-least-once" as const;
  readonly store: ProjectionStore;
  readonly #options: AtLeastOnceOptions<E>;
  readonly #saveAfterEvents: number;
  readonly #saveAfterMs: number;
  #fence: Fence = { name: "", epoch: 0, position: 0 };
  #pending: Advance | undefined;
  #unsaved = 0;
  #savedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Saves run one at a time (the timer's and `apply`'s). */
  #saving: Promise<void> = Promise.resolve();
  #timerError: unknown;

  constructor(options: AtLeastOnceOptions<E>) {
    validateHandlerOptions("atLeastOnce", options?.store, options);
    this.store = options.store;
    this.#options = options;
    this.#saveAfterEvents = positive(options.saveAfterEvents, 100, "saveAfterEvents");
    this.#saveAfterMs = positive(options.saveAfterMs, 500, "saveAfterMs");
  }

  get storedPosition(): number {
    return this.#fence.position;
  }

  begin(fence: Fence): void {
    this.end();
    this.#fence = fence;
    this.#pending = undefined;
    this.#unsaved = 0;
    this.#savedAt = performance.now();
    this.#timerError = undefined;
  }

  async apply(evts: readonly ProjectedEvt<E>[], advance: Advance): Promise<void> {
    this.#throwTimerError();
    if (evts.length > 0) await this.#options.handle(evts);
    this.#pending = merge(this.#pending, advance);
    this.#unsaved += evts.length;
    const due =
      this.#unsaved >= this.#saveAfterEvents || performance.now() - this.#savedAt >= this.#saveAfterMs;
    if (due) await this.flush();
    else this.#timer ??= setTimeout(() => this.#flushOnTimer(), this.#saveAfterMs);
  }

  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // After the previous save settled, whatever its outcome: a failed save must not fail every later one.
    this.#saving = this.#saving.catch(() => {}).then(() => this.#save());
    return this.#saving;
  }

  async rebuild(): Promise<void> {
    await this.flush();
    await this.#options.reset?.();
    await this.store.reset(this.#fence.name, 0);
    this.#fence = { ...this.#fence, position: 0 };
  }

  async redrive(evt: ProjectedEvt<E>, letter: DeadLetter): Promise<void> {
    await this.#options.handle([evt]);
    await this.store.deleteDeadLetter(letter.projection, letter.position);
  }

  end(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #save(): Promise<void> {
    const pending = this.#pending;
    if (pending === undefined) return;
    // Taken out first, so that what `apply` adds meanwhile is saved next time, and nothing twice.
    this.#pending = undefined;
    try {
      await this.store.save(this.#fence, pending);
    } catch (err) {
      this.#pending = this.#pending === undefined ? pending : merge(pending, this.#pending);
      // The store's failure, never the handler's: the batch processor must not bisect it down to an event.
      if (isEventSourcedError(err, "PROJECTION_FENCED")) throw err;
      throw new CheckpointSaveError(this.#fence.name, pending.position, { cause: err });
    }
    this.#fence = { ...this.#fence, position: pending.position };
    this.#unsaved = 0;
    this.#savedAt = performance.now();
  }

  #flushOnTimer(): void {
    this.#timer = undefined;
    this.flush().catch((err: unknown) => {
      this.#timerError = err;
    });
  }

  #throwTimerError(): void {
    if (this.#timerError === undefined) return;
    const err = this.#timerError;
    this.#timerError = undefined;
    throw err;
  }
}

/** `later` applied after `earlier`: the later position, both sets of dead letters. */
function merge(earlier: Advance | undefined, later: Advance): Advance {
  if (earlier === undefined) return later;
  return {
    position: later.position,
    lastEventAt: later.lastEventAt ?? earlier.lastEventAt,
    deadLetters: [...earlier.deadLetters, ...later.deadLetters],
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`invalid ${name} ${value}: a positive integer`);
  }
  return value;
}
