import { ConnectionError } from "@eventsourced/core";

/** SQLSTATE and Node socket codes that mean "could not connect or log in". */
const CONNECT_FAILURE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "28P01", // invalid_password
  "28000", // invalid_authorization_specification
  "3D000", // invalid_catalog_name: the database does not exist
  "53300", // too_many_connections
  "57P03", // cannot_connect_now (starting up / shutting down)
]);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The SQLSTATE of a server error, if `err` is one. */
export function sqlState(err: unknown): string | undefined {
  const code = codeOf(err);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when `err` says the server could not be reached or refused the login. */
export function isConnectFailure(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined && CONNECT_FAILURE_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : "";
  return /timeout expired|Connection terminated due to connection timeout|Too many connections/i.test(
    message,
  );
}

/**
 * True when the connection died under a statement (terminated backend, reset socket, server shutdown):
 * whatever was sent may or may not have been committed.
 */
export function isConnectionLost(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined) {
    if (code.startsWith("08") || code.startsWith("57P")) return true;
    if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") return true;
  }
  const message = err instanceof Error ? err.message : "";
  return /Connection terminated|not queryable|connection error|Client was closed/i.test(message);
}

/** True when `pg` refused a query on a client already known to be broken, so nothing was sent. */
export function isRefusedBeforeSending(err: unknown): boolean {
  const message = err instanceof Error ? err.message : "";
  return /not queryable|Client was closed and is not queryable/i.test(message);
}

/** Wraps a failure to connect as `ConnectionError` naming `target` (never credentials). */
export function connectionError(err: unknown, target: string): ConnectionError {
  const reason = err instanceof Error && err.message ? err.message : String(err);
  return new ConnectionError(`cannot connect to PostgreSQL at ${target}: ${reason}`, target, { cause: err });
}
