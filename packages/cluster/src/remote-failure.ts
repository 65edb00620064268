import { ErrorCode, isEventSourcedError } from "@eventsourced/core";
import type { RemoteFailure } from "./envelope.js";

/** Failures after which the command had no effect and another attempt (same command id) may succeed. */
const RETRYABLE_NO_EFFECT = new Set<string>([
  ErrorCode.CommandTimeout,
  ErrorCode.Connection,
  ErrorCode.Read,
  ErrorCode.EntityStopped,
  ErrorCode.ConcurrencyConflict,
  ErrorCode.Recovery,
]);

/** The codes that mean "not here": answered with `NotOwner`, the command had no effect. */
const NOT_HERE = new Set<string>([
  ErrorCode.EntityNotHosted,
  ErrorCode.OwnershipLost,
  ErrorCode.RegistryClosed,
]);

/** True when `error` means this node does not (or no longer) serve the entity. */
export function isNotHere(error: unknown): boolean {
  return isEventSourcedError(error) && NOT_HERE.has(error.code);
}

/** How the owner reports a failed command to the sender. */
export function remoteFailure(error: unknown): RemoteFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (!isEventSourcedError(error)) {
    // The entity's handleCmd threw: nothing was persisted.
    return { code: "UNKNOWN", message, outcomeUnknown: false, retryable: false };
  }
  const code = error.code;
  if (isEventSourcedError(error, ErrorCode.Persist)) {
    return { code, message, outcomeUnknown: error.outcomeUnknown, retryable: true };
  }
  if (RETRYABLE_NO_EFFECT.has(code)) return { code, message, outcomeUnknown: false, retryable: true };
  // Everything else (an event handler or the binarizer failing, a bad argument) happened before any write.
  return { code, message, outcomeUnknown: false, retryable: false };
}
