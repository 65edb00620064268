import { ConnectionError } from "@eventsourced/core";
import { redactUrl } from "./redact-url.js";

/**
 * The driver's reason for a failure on one line, with every secret in `secrets` replaced by `***` (driver
 * messages do not normally echo credentials; this makes sure of it).
 */
export function failureReason(error: unknown, secrets: readonly string[] = []): string {
  let message = error instanceof ConnectionError && error.cause instanceof Error ? error.cause.message : "";
  if (message === "") message = error instanceof Error ? error.message : String(error);
  for (const secret of secrets) if (secret !== "") message = message.split(secret).join("***");
  return message.replace(/\s*\n\s*/g, " ");
}

/** The password of a URL, decoded, or `""`: a secret to mask in messages. */
export function urlPassword(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return "";
  }
}

/**
 * The one-line `ConnectionError` for a server that cannot be reached: `cannot connect to <server> at <url
 * without its password> (<reason>); <hint>`.
 */
export function serverUnreachableError(options: {
  readonly server: string;
  readonly url: string;
  readonly error: unknown;
  /** Passwords and tokens that must not appear in the message (the URL's own password is added). */
  readonly secrets?: readonly string[] | undefined;
  /** How to start the server or point at another one. */
  readonly hint: string;
}): ConnectionError {
  const shown = redactUrl(options.url);
  const secrets = [...(options.secrets ?? []), urlPassword(options.url)];
  // A server that answered with an error (no such database, a refused login) is up: starting it won't help.
  const hint = sqlStateOf(options.error)
    ? "the server answered, so check the database, user and password the URL names"
    : options.hint;
  return new ConnectionError(
    `cannot connect to ${options.server} at ${shown} (${failureReason(options.error, secrets)}); ${hint}`,
    shown,
    { cause: options.error },
  );
}

/**
 * Whether `error` or its causes carry a PostgreSQL SQLSTATE other than a connection exception (class 08):
 * the server was reached and refused, e.g. 3D000 (no such database) or 28P01 (password authentication).
 */
function sqlStateOf(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith("08")) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
