import { ErrorCode, isEventSourcedError, type Logger } from "@eventsourced/core";

/** The `OWNERSHIP_LOST` refusal `error` is or was caused by (a recovery failure wraps it), if any. */
export function ownershipLostIn(error: unknown): Error | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (isEventSourcedError(e, ErrorCode.OwnershipLost)) return e;
  }
  return undefined;
}

/**
 * `logger` without the warnings whose `error` is an `OWNERSHIP_LOST` refusal: the run stops on such a
 * refusal and reports it in its own line (refused at its start, or its lease lost), so the registry's
 * "entity recovery failed" warnings for it (one per attempt) only repeat it. Every other warning passes.
 */
export function leavingRefusalsToTheRun(logger: Logger): Logger {
  return {
    debug: (message, fields) => logger.debug(message, fields),
    warn: (message, fields) => {
      if (ownershipLostIn(fields?.error) === undefined) logger.warn(message, fields);
    },
    error: (message, fields) => logger.error(message, fields),
  };
}
