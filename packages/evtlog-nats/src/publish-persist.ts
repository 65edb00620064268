import { Backoff, PersistError, SeqNoConflictError } from "@eventsourced/core";
import type { PubAck } from "@nats-io/jetstream";
import { type MsgHdrs, nuid } from "@nats-io/transport-node";
import { reason } from "./connect-nats.js";
import { classifyPublishFailure } from "./publish-failure.js";
import { type JetStreamPublisher, PublishLostError } from "./publish-mux.js";

/** One persist's message and what it expects of the stream. */
export interface PersistMessage {
  readonly type: string;
  readonly id: string;
  readonly subject: string;
  readonly body: Uint8Array;
  readonly headers: MsgHdrs;
  /** For the conflict error. */
  readonly expectedLastSeqNo: number;
  /** `Nats-Expected-Last-Subject-Sequence`: the stream sequence of the entity's last message, 0 for none. */
  readonly expectedStreamSeq: number;
}

/** How often and how patiently to publish. */
export interface PublishOptions {
  readonly timeoutMs: number;
  readonly attempts: number;
  /** Pause before the first retry (then doubling, jittered); default 200 ms. */
  readonly retryDelayMs?: number | undefined;
}

/**
 * Publishes one persist's message and waits for its acknowledgement, retrying (jittered backoff) while the
 * server does not answer (timeouts; no JetStream responder while a restarted server recovers its streams).
 *
 * Every attempt carries the same `Nats-Msg-Id`, fresh for this persist: a retry of an attempt that did reach
 * the stream is acknowledged as a duplicate of it (the server checks duplicates before the expected
 * sequence), so it is stored once, while another writer's message with the same seqNos can never be
 * mistaken for ours. A NUID: 22 characters, a random per-process prefix plus a sequence.
 *
 * Rejects with `SeqNoConflictError` when the stream refuses the expected sequence, and with `PersistError`
 * otherwise: `outcomeUnknown` when some attempt went out and was not answered, known when the client
 * refused before sending or the stream answered with a refusal (it would have answered "duplicate" had an
 * earlier attempt been stored).
 */
export async function publishPersist(
  js: JetStreamPublisher,
  message: PersistMessage,
  options: PublishOptions,
): Promise<Pick<PubAck, "seq" | "duplicate">> {
  const { type, id, subject } = message;
  const where = `${type}/${JSON.stringify(id)}`;
  const msgID = nuid.next();
  const backoff = new Backoff({ initialMs: options.retryDelayMs ?? 200, maxMs: 5_000 });
  let maybeStored = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return await js.publish(subject, message.body, {
        msgID,
        headers: message.headers,
        expect: { lastSubjectSequence: message.expectedStreamSeq },
        timeout: options.timeoutMs,
      });
    } catch (err) {
      const failure = classifyPublishFailure(err);
      switch (failure) {
        case "conflict":
          throw new SeqNoConflictError(type, id, message.expectedLastSeqNo, { cause: err });
        case "refused":
          // Known even after an unanswered attempt: had that one been stored, this one would have been
          // acknowledged as its duplicate (the server checks duplicates first).
          throw new PersistError(`the stream refused the events of ${where}: ${reason(err)}`, false, {
            cause: err,
          });
        case "notSent":
          throw new PersistError(
            `cannot publish the events of ${where}: ${reason(err)}; this attempt was not sent`,
            maybeStored,
            { cause: err },
          );
        case "unknown":
          throw new PersistError(`persisting the events of ${where} failed: ${reason(err)}`, true, {
            cause: err,
          });
      }
      maybeStored ||= failure === "unanswered";
      if (attempt >= options.attempts) {
        throw new PersistError(
          maybeStored
            ? `no acknowledgement for the events of ${where} after ${attempt} attempts: they may or may not be stored`
            : `no JetStream stream answered on ${subject} after ${attempt} attempts`,
          maybeStored,
          { cause: err },
        );
      }
      // A publish lost with its connection goes again at once: the server is back (nats.js reconnected).
      if (!(err instanceof PublishLostError))
        await new Promise((resolve) => setTimeout(resolve, backoff.next()));
    }
  }
}
