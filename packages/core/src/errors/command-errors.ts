// Errors a single command can end with while the entity itself stays usable (or is stopped).
import { ErrorCode, EventSourcedError } from "./base.js";

/** The entity was stopped (or failed) and accepts no more commands. */
export class EntityStoppedError extends EventSourcedError {
  static override readonly code: string = ErrorCode.EntityStopped;
  declare readonly code: typeof ErrorCode.EntityStopped;
  constructor(
    readonly type: string,
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.EntityStopped, `entity ${type}/${JSON.stringify(id)} is stopped`, options);
  }
}

/**
 * A command waited longer than its `timeoutMs` (in the mailbox, or for its asynchronous `handleCmd` to
 * decide) and was withdrawn without effect.
 */
export class CommandTimeoutError extends EventSourcedError {
  static override readonly code: string = ErrorCode.CommandTimeout;
  declare readonly code: typeof ErrorCode.CommandTimeout;
  constructor(
    readonly type: string,
    readonly id: string,
    readonly timeoutMs: number,
  ) {
    super(
      ErrorCode.CommandTimeout,
      `command for ${type}/${JSON.stringify(id)} timed out after ${timeoutMs} ms before it was decided; it had no effect`,
    );
  }
}

/**
 * `handleEvt` threw while folding the events a command emitted. The events are folded before they are
 * persisted, so nothing was written and the entity keeps serving its previous state. `seqNo` is the seqNo
 * the failing event would have had.
 */
export class EvtHandlerError extends EventSourcedError {
  static override readonly code: string = ErrorCode.EvtHandler;
  declare readonly code: typeof ErrorCode.EvtHandler;
  constructor(
    readonly type: string,
    readonly id: string,
    readonly seqNo: number,
    options?: { cause?: unknown },
  ) {
    super(
      ErrorCode.EvtHandler,
      `handleEvt of ${type}/${JSON.stringify(id)} threw on the event that would have had seqNo ${seqNo}; nothing was persisted` +
        (options?.cause instanceof Error ? `: ${options.cause.message}` : ""),
      options,
    );
  }
}
