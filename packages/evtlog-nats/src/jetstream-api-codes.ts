import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";

/**
 * The JetStream API error codes this package reacts to: nats.js's own constants where it has them, the
 * others named after nats-server's error table (`server/errors.json`), since nats.js exports no constant
 * for them.
 */
export const ApiCode = {
  StreamNotFound: JetStreamApiCodes.StreamNotFound,
  /** `JSStreamWrongLastSequenceErrF`, "wrong last sequence: {seq}": another message got there first. */
  WrongLastSequence: JetStreamApiCodes.StreamWrongLastSequence,
  /**
   * `JSStreamWrongLastSequenceConstantErr`, "wrong last sequence" without the sequence: the same refusal,
   * from replicated streams and from servers that check before the message is proposed (2.10 and later).
   */
  WrongLastSequenceUnknown: JetStreamApiCodes.StreamWrongLastSequenceUnknown,
  /** `JSStreamMessageExceedsMaximumErr`: larger than the stream's (or a KV bucket's) max message size. */
  MessageExceedsMaximum: 10054,
  /** `JSStreamSubjectOverlapErr`: another stream already captures some of the subjects. */
  SubjectOverlap: 10065,
  /**
   * `JSStreamDuplicateMessageConflict` (2.11 and later): a message with the same `Nats-Msg-Id` is still
   * being stored, i.e. an earlier attempt of this very publish may yet land.
   */
  DuplicateMessageInProcess: 10158,
  /** `JSStreamExpectedLastSeqPerSubjectNotReady` (2.11 and later): the check cannot run yet; nothing stored. */
  ExpectedLastSequenceNotReady: 10163,
} as const;

/**
 * The JetStream API error code of `err`, if it is a `JetStreamApiError` or one of its subclasses (such as
 * `StreamNotFoundError`). Recognised by shape as well, so that an error from another copy of
 * `@nats-io/jetstream` (the one `@nats-io/kv` resolves, say) counts too.
 */
export function jetStreamApiCode(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const shaped = err as { code?: unknown; apiError?: unknown };
  const isApiError = err instanceof JetStreamApiError || typeof shaped.apiError === "function";
  return isApiError && typeof shaped.code === "number" ? shaped.code : undefined;
}

/**
 * True when the stream refused a publish because the expected last (subject) sequence did not match: a
 * seqNo conflict on the event log, a lost compare-and-set round in a KV bucket. Nothing was stored.
 */
export function isWrongLastSequence(err: unknown): boolean {
  const code = jetStreamApiCode(err);
  return code === ApiCode.WrongLastSequence || code === ApiCode.WrongLastSequenceUnknown;
}
