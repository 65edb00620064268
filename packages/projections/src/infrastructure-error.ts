import { isEventSourcedError } from "@eventsourced/core";

/**
 * SQLSTATE classes of failures that say nothing about the events: connection exceptions (08), transaction
 * rollbacks such as serialization failures and deadlocks (40), insufficient resources (53), operator
 * intervention such as a terminated backend or a shutdown (57), plus lock_not_available (55P03).
 */
const RETRYABLE_SQLSTATE = /^(08|40|53|57)[0-9A-Z]{3}$|^55P03$/;

/** Socket-level failures from Node. */
const SOCKET_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** nats.js error classes (by name: a projection imports no driver) that mean "the server did not answer". */
const NATS_ERROR_NAMES = new Set([
  "TimeoutError",
  "NoRespondersError",
  "ClosedConnectionError",
  "ConnectionError",
  "DrainingConnectionError",
]);

/** Errors of the log or a store that are about reaching it, not about the events. */
const EVENTSOURCED_CODES = new Set([
  "CONNECTION_FAILED",
  "READ_FAILED",
  "PERSIST_FAILED",
  "COMMAND_TIMEOUT",
  "CHECKPOINT_SAVE_FAILED",
]);

/** Messages of `pg` for a dead or closed connection (it sets no code on them). */
const PG_CONNECTION_MESSAGE =
  /Connection terminated|not queryable|Client was closed|connection error|timeout exceeded when trying to connect/i;

/**
 * True when `err` (or an error in its `cause` chain) is a failure of the infrastructure (connection, timeout,
 * serialization failure, server shutdown) rather than of the handler's logic. Projections retry those forever
 * with backoff and never dead-letter an event because of them.
 */
export function isInfrastructureError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (isEventSourcedError(current)) {
      if (current.code === "PROJECTION_FENCED") return false;
      if (EVENTSOURCED_CODES.has(current.code)) return true;
    }
    if (typeof current === "object") {
      const code = (current as { code?: unknown }).code;
      if (typeof code === "string" && (RETRYABLE_SQLSTATE.test(code) || SOCKET_CODES.has(code))) return true;
      if (current instanceof Error) {
        if (NATS_ERROR_NAMES.has(current.name)) return true;
        if (PG_CONNECTION_MESSAGE.test(current.message)) return true;
      }
      current = (current as { cause?: unknown }).cause;
    } else {
      return false;
    }
  }
  return false;
}
