import { ConfigurationError, ConnectionError, EventSourcedError } from "@eventsourced/core";

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

/** Node socket codes that mean the connection broke under a statement. */
const SOCKET_LOST_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
]);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : "";
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
  return /timeout expired|Connection terminated due to connection timeout|Too many connections/i.test(
    messageOf(err),
  );
}

/**
 * What a failed statement says about its own outcome and about the connection it ran on.
 *
 * - `server`: the server answered with an error (an SQLSTATE outside the connection classes); the
 *   statement's transaction rolled back and the connection is fine (except after `26000`, see below).
 * - `lost`: the connection broke under the statement (socket error, SQLSTATE class 08 or 57P, a FATAL
 *   error, pg's "Connection terminated"): it may have committed, and the connection is gone.
 * - `notSent`: the client refused before sending anything (a client already broken or closed, a
 *   malformed query): nothing ran.
 * - `timedOut`: the client stopped waiting (`query_timeout`) for a statement the server may still
 *   commit; the connection is busy with it, so it is dropped.
 * - `client`: any other error without an SQLSTATE, raised by the client after the statement was sent
 *   (a result it could not parse, for one): the statement may have run; the client stays in protocol
 *   sync (a client that cannot marks itself unusable, and its next statement is refused before sending).
 */
export type QueryFailureKind = "server" | "lost" | "notSent" | "timedOut" | "client";

/** A failed statement, classified (see {@link QueryFailureKind}). */
export interface QueryFailure {
  readonly kind: QueryFailureKind;
  /** The statement may have reached the server and committed. */
  readonly outcomeUnknown: boolean;
  /** Release the connection with the error, so that the pool destroys it instead of reusing it. */
  readonly discardConnection: boolean;
  /** The SQLSTATE, when the server sent one. */
  readonly sqlState: string | undefined;
}

/** Classifies the error of a failed statement; see {@link QueryFailureKind}. */
export function classifyQueryFailure(err: unknown): QueryFailure {
  const state = sqlState(err);
  const message = messageOf(err);
  const severity = (err as { severity?: unknown } | null)?.severity;
  if (state !== undefined) {
    const lost =
      state.startsWith("08") || state.startsWith("57P") || severity === "FATAL" || severity === "PANIC";
    if (lost) return failure("lost", true, true, state);
    // invalid_sql_statement_name: the client's record of the statements it prepared on this connection is
    // out of step with the server (pg keeps a statement whose parameters it failed to bind as prepared),
    // so every later use of that statement here would fail the same way.
    return failure("server", false, state === "26000", state);
  }
  const code = codeOf(err);
  if (
    (code !== undefined && SOCKET_LOST_CODES.has(code)) ||
    /Connection terminated|connection error/i.test(message)
  ) {
    // pg reports a client that already broke as "...encountered a connection error and is not queryable".
    if (/not queryable/i.test(message)) return failure("notSent", false, true, undefined);
    return failure("lost", true, true, undefined);
  }
  if (/not queryable/i.test(message)) return failure("notSent", false, true, undefined);
  // Checks pg makes before it writes anything to the socket.
  if (
    /Prepared statements must be unique|Query values must be an array|A query must have either text or a name/.test(
      message,
    )
  ) {
    return failure("notSent", false, false, undefined);
  }
  if (/Query read timeout/i.test(message)) return failure("timedOut", true, true, undefined);
  return failure("client", true, false, undefined);
}

function failure(
  kind: QueryFailureKind,
  outcomeUnknown: boolean,
  discardConnection: boolean,
  state: string | undefined,
): QueryFailure {
  return { kind, outcomeUnknown, discardConnection, sqlState: state };
}

/** Wraps a failure to connect as `ConnectionError` naming `target` (never credentials). */
export function connectionError(err: unknown, target: string): ConnectionError {
  const reason = err instanceof Error && err.message ? err.message : String(err);
  return new ConnectionError(`cannot connect to PostgreSQL at ${target}: ${reason}`, target, { cause: err });
}

/**
 * The error for a failed schema setup (`what`, e.g. "set up the event log tables in schema \"x\""):
 * `ConnectionError` when the server could not be reached or the connection broke, `ConfigurationError` when
 * the server refused a statement (a missing privilege, a name already taken by something else: fix the
 * database or the `schema`/`table` options), our own typed errors as they are.
 */
export function setupError(err: unknown, target: string, what: string): EventSourcedError {
  if (err instanceof EventSourcedError) return err;
  const failure = classifyQueryFailure(err);
  if (isConnectFailure(err) || failure.kind !== "server") return connectionError(err, target);
  const reason = err instanceof Error ? err.message : String(err);
  return new ConfigurationError(
    `cannot ${what} at ${target}: ${reason} (SQLSTATE ${failure.sqlState}); fix the database or the schema and table options, or run the setup elsewhere and pass setup: false`,
    "schema",
    "server",
    { cause: err },
  );
}
