import {
  Backoff,
  type BackoffOptions,
  isEventSourcedError,
  type Logger,
  type TypedEvtRecord,
} from "@eventsourced/core";
import { delay } from "./delay.js";
import { PoisonEventError } from "./errors.js";
import { isUndecodable, type ProjectedEvt, type Undecodable } from "./projected-evt.js";
import type { ProjectionHandler } from "./projection-handler.js";
import type { DeadLetter } from "./projection-store.js";

/** What happens to an event the handler keeps failing on (or that cannot be decoded). */
export type PoisonOutcome = "dead-letter" | "skip" | "stop";

/** Handler-error policy of a projection. */
export interface OnHandlerError {
  /** Retries of a failing batch before it is bisected. Default 3. */
  readonly retries?: number | undefined;
  /** Delay between those retries (jittered). Default 100 ms doubling to 5 s. */
  readonly backoff?: BackoffOptions | undefined;
  /** What to do with the isolated poison event. Default `"dead-letter"`. */
  readonly exhausted?: PoisonOutcome | undefined;
}

/** Counters of a projection's work. */
export interface ProcessorStats {
  /** Batches handed to the handler (first attempts). */
  batches: number;
  /** Events applied. */
  events: number;
  /** Calls of the handler's `apply` (each a transaction in exactly-once mode), including failed ones. */
  transactions: number;
  /** Failed attempts caused by the handler (infrastructure failures are counted apart). */
  handlerFailures: number;
  /** Batches bisected to find a poison event. */
  bisections: number;
  deadLettered: number;
  skipped: number;
}

interface ProcessorConfig {
  readonly name: string;
  readonly retries: number;
  readonly backoff: BackoffOptions;
  readonly exhausted: PoisonOutcome;
  readonly isInfrastructureError: (err: unknown) => boolean;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/**
 * Applies decoded batches through a handler: a batch that fails with a handler error is retried (jittered
 * backoff), then bisected to find the poison event, committing the good events before it; the poison event
 * then gets the configured outcome. Infrastructure errors and fencing are thrown to the caller, which restarts
 * from the stored checkpoint.
 */
export class BatchProcessor<E> {
  readonly #handler: ProjectionHandler<E>;
  readonly #config: ProcessorConfig;
  readonly stats: ProcessorStats;

  /** `stats` is updated in place (a projection keeps one across restarts). */
  constructor(handler: ProjectionHandler<E>, config: ProcessorConfig, stats: ProcessorStats = emptyStats()) {
    this.#handler = handler;
    this.#config = config;
    this.stats = stats;
  }

  /** Applies one batch (in position order) and moves the checkpoint past its last item. */
  async process(items: readonly (ProjectedEvt<E> | Undecodable)[]): Promise<void> {
    if (items.length === 0) return;
    this.stats.batches++;
    const good: ProjectedEvt<E>[] = [];
    const letters: DeadLetter[] = [];
    for (const item of items) {
      if (!isUndecodable(item)) {
        good.push(item);
        continue;
      }
      const { record, error } = item;
      if (this.#config.exhausted === "stop") {
        const before = good.at(-1);
        if (before !== undefined) await this.#apply(good, letters, before.position, before.recordedAt);
        throw new PoisonEventError(this.#config.name, record.position, record.id, record.seqNo, 1, {
          cause: error,
        });
      }
      this.#giveUp(record, error, 1);
      if (this.#config.exhausted === "dead-letter") letters.push(this.#letter(record, error, 1));
    }
    const last = items.at(-1)!;
    const lastAt = isUndecodable(last) ? good.at(-1)?.recordedAt : last.recordedAt;
    await this.#apply(good, letters, isUndecodable(last) ? last.record.position : last.position, lastAt);
  }

  /** Applies `evts` with retries, bisecting when they are used up. */
  async #apply(
    evts: readonly ProjectedEvt<E>[],
    letters: readonly DeadLetter[],
    to: number,
    lastEventAt: Date | undefined,
  ): Promise<void> {
    const backoff = new Backoff(this.#config.backoff);
    for (let attempt = 1; ; attempt++) {
      const error = await this.#try(evts, letters, to, lastEventAt);
      if (error === undefined) return;
      if (evts.length === 0) throw error;
      if (attempt <= this.#config.retries) {
        await delay(backoff.next(), this.#config.signal);
        if (this.#config.signal.aborted) throw error;
        continue;
      }
      await this.#isolate(evts, letters, to, lastEventAt, error, attempt);
      return;
    }
  }

  /**
   * `evts` failed as a whole `attempts` times. Halves the suspect range until one event is left, committing
   * each left half that succeeds (then the right half is the suspect, untried) and keeping each failing left
   * half as the suspect (then its right half waits, untried). With a deterministic poison event this costs
   * about log2(n) attempts; the events after it are then applied together with its dead letter.
   */
  async #isolate(
    evts: readonly ProjectedEvt<E>[],
    carried: readonly DeadLetter[],
    to: number,
    lastEventAt: Date | undefined,
    failure: unknown,
    attempts: number,
  ): Promise<void> {
    this.stats.bisections++;
    let letters = carried;
    let suspect = evts;
    let suspectFailed = true;
    let suspectAttempts = attempts;
    let lastError = failure;
    const after: (readonly ProjectedEvt<E>[])[] = [];
    while (suspect.length > 1) {
      const middle = Math.ceil(suspect.length / 2);
      const left = suspect.slice(0, middle);
      const right = suspect.slice(middle);
      const end = left.at(-1)!;
      const error = await this.#try(left, letters, end.position, end.recordedAt);
      if (error === undefined) {
        letters = [];
        suspect = right;
        suspectFailed = false;
      } else {
        lastError = error;
        after.unshift(right);
        suspect = left;
        suspectFailed = true;
        suspectAttempts++;
      }
    }
    const poison = suspect[0]!;
    if (!suspectFailed) {
      const error = await this.#try([poison], letters, poison.position, poison.recordedAt);
      if (error === undefined) {
        letters = [];
      } else {
        lastError = error;
        suspectFailed = true;
        suspectAttempts++;
      }
    }
    if (suspectFailed) {
      const { exhausted, name } = this.#config;
      if (exhausted === "stop") {
        throw new PoisonEventError(name, poison.position, poison.id, poison.seqNo, suspectAttempts, {
          cause: lastError,
        });
      }
      this.#giveUp(poison, lastError, suspectAttempts);
      if (exhausted === "dead-letter")
        letters = [...letters, this.#letter(poison, lastError, suspectAttempts)];
    }
    const rest = after.flat();
    if (rest.length > 0) await this.#apply(rest, letters, to, lastEventAt);
    // Nothing after it: the poison event's outcome (and anything undecodable after it) still moves the checkpoint.
    else if (letters.length > 0 || suspectFailed || poison.position < to) {
      await this.#apply([], letters, to, lastEventAt);
    }
  }

  /**
   * One attempt: undefined when it committed, the error when the handler failed. Infrastructure failures and
   * fencing are thrown.
   */
  async #try(
    evts: readonly ProjectedEvt<E>[],
    deadLetters: readonly DeadLetter[],
    position: number,
    lastEventAt: Date | undefined,
  ): Promise<unknown> {
    this.stats.transactions++;
    try {
      await this.#handler.apply(evts, { position, lastEventAt, deadLetters });
    } catch (err) {
      if (
        isEventSourcedError(err, "PROJECTION_FENCED") ||
        isEventSourcedError(err, "CHECKPOINT_SAVE_FAILED") ||
        this.#config.isInfrastructureError(err)
      ) {
        throw err;
      }
      this.stats.handlerFailures++;
      this.#config.logger.warn("projection handler failed", {
        projection: this.#config.name,
        events: evts.length,
        from: evts[0]?.position,
        to: position,
        error: describe(err),
      });
      return err ?? new Error("the handler failed with no error value");
    }
    this.stats.events += evts.length;
    this.stats.deadLettered += deadLetters.length;
    return undefined;
  }

  #giveUp(evt: { position: number; id: string; seqNo: number }, error: unknown, attempts: number): void {
    if (this.#config.exhausted === "skip") this.stats.skipped++;
    this.#config.logger.error(
      this.#config.exhausted === "skip"
        ? "projection skipped a poison event"
        : "projection dead-lettered an event",
      {
        projection: this.#config.name,
        position: evt.position,
        id: evt.id,
        seqNo: evt.seqNo,
        attempts,
        error: describe(error),
      },
    );
  }

  #letter(evt: ProjectedEvt<E> | TypedEvtRecord, error: unknown, attempts: number): DeadLetter {
    return {
      projection: this.#config.name,
      position: evt.position,
      type: evt.type,
      id: evt.id,
      seqNo: evt.seqNo,
      recordedAt: evt.recordedAt,
      contentType: evt.contentType,
      metadata: evt.metadata,
      bytes: evt.bytes,
      error: describe(error),
      attempts,
    };
  }
}

/** Counters at zero. */
export function emptyStats(): ProcessorStats {
  return {
    batches: 0,
    events: 0,
    transactions: 0,
    handlerFailures: 0,
    bisections: 0,
    deadLettered: 0,
    skipped: 0,
  };
}

/** An error as one line of text: its message and its causes'. */
export function describe(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    parts.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(" <- ");
}
