import type { HandleCmdOptions, IdempotentCmdOptions } from "./entity-ref.js";
import { CommandTimeoutError, InvalidArgumentError } from "./errors/index.js";
import type { EvtMetadata } from "./evt-log.js";
import type { CommandObservation } from "./instrumentation/command-observation.js";
import { follow } from "./linked-signal.js";
import type { MailboxItem } from "./mailbox.js";
import { validateIdempotencyKey } from "./validate.js";

/**
 * The signal that ends a caller's wait: its own `signal`, a `timeoutMs` (aborting with
 * `CommandTimeoutError`), or both. `clear` cancels the timer once the command no longer waits.
 */
export interface CallerSignal {
  readonly signal: AbortSignal;
  clear(): void;
}

const NOTHING_TO_CLEAR = (): void => {};

/** Builds the {@link CallerSignal} of a command; undefined when the caller set neither option. */
export function callerSignal(
  type: string,
  id: string,
  options: { readonly signal?: AbortSignal | undefined; readonly timeoutMs?: number | undefined },
): CallerSignal | undefined {
  const { signal, timeoutMs } = options;
  if (timeoutMs === undefined) return signal === undefined ? undefined : { signal, clear: NOTHING_TO_CLEAR };
  if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
    throw new InvalidArgumentError(`timeoutMs must be a finite number >= 0, got ${timeoutMs}`);
  }
  const controller = new AbortController();
  if (signal?.aborted) {
    controller.abort(signal.reason);
    return { signal: controller.signal, clear: NOTHING_TO_CLEAR };
  }
  const unfollow = signal === undefined ? NOTHING_TO_CLEAR : follow(signal, () => end(signal.reason));
  const timer = setTimeout(() => end(new CommandTimeoutError(type, id, timeoutMs)), timeoutMs);
  timer.unref?.();
  const clear = (): void => {
    clearTimeout(timer);
    unfollow();
  };
  const end = (reason: unknown): void => {
    clear();
    controller.abort(reason);
  };
  return { signal: controller.signal, clear };
}

/** The idempotency key of `options`, validated; undefined when the command has none. */
export function idempotencyKeyOption(options: HandleCmdOptions | IdempotentCmdOptions): string | undefined {
  const key = (options as Partial<IdempotentCmdOptions>).idempotencyKey;
  if (key === undefined) return undefined;
  validateIdempotencyKey(key);
  return key;
}

/** A command in the mailbox together with its caller's promise. */
export class PendingCmd<C, T> implements MailboxItem {
  inMailbox = false;
  readonly promise: Promise<T>;
  resolve!: (result: T) => void;
  reject!: (error: unknown) => void;
  #caller: CallerSignal | undefined;
  #unfollow: (() => void) | undefined;

  constructor(
    readonly cmd: C,
    readonly metadata: EvtMetadata | undefined,
    readonly key: string | undefined,
    /** The instrumentation's view of the command, when the entity has one. */
    readonly observation?: CommandObservation | undefined,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The caller's signal, also handed to an async `handleCmd` as `ctx.signal`. */
  get signal(): AbortSignal | undefined {
    return this.#caller?.signal;
  }

  /** Lets the caller give up while the command waits: `withdraw` removes it, then it rejects with the reason. */
  watch(caller: CallerSignal, withdraw: (pending: this) => boolean): void {
    this.#caller = caller;
    // Shared with the other commands waiting on the same signal (no listener each: see `follow`).
    this.#unfollow = follow(caller.signal, () => {
      if (withdraw(this)) this.reject(caller.signal.reason);
    });
  }

  /** The command is being handled now: it no longer waits to be withdrawn. */
  taken(): void {
    this.#unfollow?.();
    this.#unfollow = undefined;
  }

  /** The command settled: frees its timer. */
  settled(): void {
    this.#caller?.clear();
  }
}
