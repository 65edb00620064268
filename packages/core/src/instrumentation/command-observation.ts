import type { DuplicateResult } from "../entity-ref.js";
import type { CmdResult } from "../event-sourced.js";
import type { EvtMetadata } from "../evt-log.js";
import type { CommandObserver } from "./command-observer.js";
import type { Instrumentation } from "./instrumentation.js";

// biome-ignore lint/suspicious/noExplicitAny: any reply and rejection of the protocol
type AnyResult = CmdResult<any, any> | DuplicateResult;

/**
 * One command followed by an instrumentation's observer: what the command path needs to tell it (the
 * persists, the trace headers for the events) and the settling of its caller's promise (the outcome).
 * Created only when the entity has an instrumentation whose `commandStarted` returned an observer, so the
 * command path without one allocates nothing.
 */
export class CommandObservation {
  readonly #observer: CommandObserver;
  // 0 for an untimed observer: no clock is read for it.
  readonly #startedAt: number;
  #events = 0;
  #ended = false;

  private constructor(observer: CommandObserver) {
    this.#observer = observer;
    this.#startedAt = observer.timed === false ? 0 : performance.now();
  }

  /** Starts observing a command that just arrived; undefined when nobody listens. */
  static start(
    instrumentation: Instrumentation,
    typeName: string,
    id: string,
    cmd: unknown,
    metadata: EvtMetadata | undefined,
    seqNo: number,
  ): CommandObservation | undefined {
    if (instrumentation.commandStarted === undefined) return undefined;
    const type = (cmd as { type?: unknown } | null)?.type;
    const observer = instrumentation.commandStarted({
      typeName,
      id,
      cmdType: typeof type === "string" ? type : undefined,
      metadata,
      seqNo,
    });
    return observer === undefined ? undefined : new CommandObservation(observer);
  }

  /** The metadata to persist the command's events with: the caller's, plus the observer's headers. */
  metadata(metadata: EvtMetadata | undefined): EvtMetadata | undefined {
    const headers = this.#observer.headers;
    if (headers === undefined) return metadata;
    return { ...metadata, headers: { ...metadata?.headers, ...headers } };
  }

  /** When a persist is sent: a clock reading if the observer follows persists, else 0 (no clock read). */
  persistSent(): number {
    return this.#observer.persisted === undefined ? 0 : performance.now();
  }

  /** A persist of `size` events sent at `sentAt` answered (`error` when it failed). */
  persisted(size: number, sentAt: number, position: number | undefined, error?: unknown): void {
    if (error === undefined) this.#events += size;
    if (this.#observer.persisted === undefined) return;
    const durationMs = performance.now() - sentAt;
    this.#observer.persisted(
      error === undefined
        ? { size, startedAt: sentAt, durationMs, position }
        : { size, startedAt: sentAt, durationMs, position, error },
    );
  }

  /** The command answered with `result` (reported once: later calls are ignored). Returns `result`. */
  answered<R extends AnyResult>(result: R): R {
    if (this.#ended) return result;
    this.#ended = true;
    const outcome = result.kind;
    this.#observer.ended({
      outcome,
      seqNo: result.seqNo,
      events: outcome === "accepted" ? this.#events : 0,
      durationMs: this.#duration(),
    });
    return result;
  }

  /** The command failed with `error` (reported once). */
  failed(error: unknown, seqNo: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#observer.ended({ outcome: "failed", seqNo, events: 0, durationMs: this.#duration(), error });
  }

  /**
   * Reports how the caller's promise settles, for a command whose answer may come from elsewhere than the
   * command path (withdrawn from the mailbox, handed to the next incarnation).
   */
  settle<R extends AnyResult>(promise: Promise<R>, seqNo: () => number): Promise<R> {
    return promise.then(
      (result) => this.answered(result),
      (error: unknown) => {
        this.failed(error, seqNo());
        throw error;
      },
    );
  }

  #duration(): number {
    return this.#startedAt === 0 ? 0 : performance.now() - this.#startedAt;
  }
}
