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
  readonly #startedAt: number;
  #events = 0;

  private constructor(observer: CommandObserver, startedAt: number) {
    this.#observer = observer;
    this.#startedAt = startedAt;
  }

  /** Starts observing a command that just arrived; undefined when nobody listens. */
  static start(
    instrumentation: Instrumentation | undefined,
    typeName: string,
    id: string,
    cmd: unknown,
    metadata: EvtMetadata | undefined,
    seqNo: number,
  ): CommandObservation | undefined {
    if (instrumentation?.commandStarted === undefined) return undefined;
    const startedAt = performance.now();
    const type = (cmd as { type?: unknown } | null)?.type;
    const observer = instrumentation.commandStarted({
      typeName,
      id,
      cmdType: typeof type === "string" ? type : undefined,
      metadata,
      seqNo,
      startedAt,
    });
    return observer === undefined ? undefined : new CommandObservation(observer, startedAt);
  }

  /** The metadata to persist the command's events with: the caller's, plus the observer's headers. */
  metadata(metadata: EvtMetadata | undefined): EvtMetadata | undefined {
    const headers = this.#observer.headers;
    if (headers === undefined) return metadata;
    return { ...metadata, headers: { ...metadata?.headers, ...headers } };
  }

  /** A persist of `size` events sent at `startedAt` answered (`error` when it failed). */
  persisted(size: number, startedAt: number, position: number | undefined, error?: unknown): void {
    if (error === undefined) this.#events += size;
    const durationMs = performance.now() - startedAt;
    this.#observer.persisted?.(
      error === undefined
        ? { size, startedAt, durationMs, position }
        : { size, startedAt, durationMs, position, error },
    );
  }

  /** Tells the observer how the caller's promise settled; `seqNo` is the entity's, for a failure. */
  settle<R extends AnyResult>(promise: Promise<R>, seqNo: () => number): Promise<R> {
    return promise.then(
      (result) => {
        const durationMs = performance.now() - this.#startedAt;
        const outcome = result.kind;
        const events = outcome === "accepted" ? this.#events : 0;
        this.#observer.ended({ outcome, seqNo: result.seqNo, events, durationMs });
        return result;
      },
      (error: unknown) => {
        const durationMs = performance.now() - this.#startedAt;
        this.#observer.ended({ outcome: "failed", seqNo: seqNo(), events: 0, durationMs, error });
        throw error;
      },
    );
  }
}
