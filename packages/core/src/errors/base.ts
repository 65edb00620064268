/**
 * Stable error codes. Match on `err.code` (or use {@link isEventSourcedError}) rather than on messages,
 * which may be reworded.
 */
export const ErrorCode = {
  SeqNoConflict: "SEQNO_CONFLICT",
  ConcurrencyConflict: "CONCURRENCY_CONFLICT",
  Persist: "PERSIST_FAILED",
  Read: "READ_FAILED",
  Connection: "CONNECTION_FAILED",
  Decode: "DECODE_FAILED",
  SnapshotAheadOfLog: "SNAPSHOT_AHEAD_OF_LOG",
  Recovery: "RECOVERY_FAILED",
  EntityStopped: "ENTITY_STOPPED",
  InvalidArgument: "INVALID_ARGUMENT",
  Configuration: "CONFIGURATION_INVALID",
  CommandTimeout: "COMMAND_TIMEOUT",
  EvtHandler: "EVT_HANDLER_FAILED",
  Encode: "ENCODE_FAILED",
  OwnershipLost: "OWNERSHIP_LOST",
  RegistryClosed: "REGISTRY_CLOSED",
  EntityNotHosted: "ENTITY_NOT_HOSTED",
  EventsDeleted: "EVENTS_DELETED",
  SnapshotVersionUnknown: "SNAPSHOT_VERSION_UNKNOWN",
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Marks every eventsourced error, whichever copy of this package created it. `Symbol.for` keys are shared
 * by every module in the process, so an application that ends up with two copies of core (an adapter
 * resolving its own) still recognises the other copy's errors.
 */
const BRAND: unique symbol = Symbol.for("@eventsourced/core.error") as never;

/** True when `value` carries the eventsourced error brand and a string code. @internal */
export function isBranded(value: unknown): value is EventSourcedError {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [BRAND]?: unknown })[BRAND] === true &&
    typeof (value as { code?: unknown }).code === "string"
  );
}

/**
 * Base class of every error thrown by eventsourced; `code` is stable, `cause` holds the underlying error.
 *
 * Identity is by brand and code, not by class object: `err instanceof SeqNoConflictError` is true for a
 * conflict raised by another copy of this package too (each class with a code of its own matches errors
 * carrying that code). Packages add their own codes and classes the same way.
 */
export class EventSourcedError extends Error {
  /** The code that instances of this class carry; set by every class with a code of its own. */
  static readonly code: string | undefined = undefined;

  /** Recognises errors of this class from any copy of the package, by brand and code. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class on the right of `instanceof` (a subclass, usually), which is the point here.
    // biome-ignore-start lint/complexity/noThisInStatic: see above
    if (!isBranded(value)) return false;
    if (this === EventSourcedError) return true;
    const code = Object.hasOwn(this, "code") ? (this as { code?: unknown }).code : undefined;
    if (typeof code === "string") return value.code === code;
    return Function.prototype[Symbol.hasInstance].call(this, value);
    // biome-ignore-end lint/complexity/noThisInStatic: see above
  }

  readonly code: ErrorCode | (string & {});

  constructor(code: ErrorCode | (string & {}), message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
Object.defineProperty(EventSourcedError.prototype, BRAND, { value: true });
