import { ApiCode, isWrongLastSequence, jetStreamApiCode } from "./jetstream-api-codes.js";

/**
 * What a failed JetStream publish (or KV put) means:
 * - `conflict`: the stream refused the expected last subject sequence (every code that says so);
 * - `refused`: the stream or the server refused the message (nothing stored);
 * - `notSent`: the client refused before sending (connection closed or draining, the log closed, message
 *   larger than the server's max_payload, invalid subject);
 * - `unanswered`: no answer in time, the connection it went out on was lost (`PublishLostError`, or
 *   `RequestLostError` for a KV write), or the server is still storing an earlier attempt of it: may be
 *   stored, retry with the same message id;
 * - `notReady`: nothing answered for the stream (JetStream not ready after a restart) or the check cannot
 *   run yet: not stored, retry;
 * - `unknown`: anything else once the request may have left (the connection closed under it, say).
 */
export type PublishFailure = "conflict" | "refused" | "notSent" | "unanswered" | "notReady" | "unknown";

/** nats.js errors raised before anything is written to the socket. */
const NOT_SENT = new Set([
  "ClosedConnectionError",
  "DrainingConnectionError",
  "InvalidArgumentError",
  "InvalidSubjectError",
  "PublisherClosedError",
]);

/** Classifies the error of a failed publish; see {@link PublishFailure}. */
export function classifyPublishFailure(err: unknown): PublishFailure {
  if (isWrongLastSequence(err)) return "conflict";
  const code = jetStreamApiCode(err);
  if (code === ApiCode.DuplicateMessageInProcess) return "unanswered";
  if (code === ApiCode.ExpectedLastSequenceNotReady) return "notReady";
  if (code !== undefined) return "refused";
  const name = err instanceof Error ? err.name : "";
  if (NOT_SENT.has(name)) return "notSent";
  if (name === "PermissionViolationError") return "refused";
  if (name === "TimeoutError" || name === "PublishLostError" || name === "RequestLostError")
    return "unanswered";
  // "No JetStream answered" (disabled, or not ready after a restart): nats.js's JetStream client reports it
  // as JetStreamNotEnabled, the publish multiplexer as the NoRespondersError (named "NoResponders") underneath.
  if (name === "JetStreamNotEnabled" || name === "NoResponders") return "notReady";
  return "unknown";
}
