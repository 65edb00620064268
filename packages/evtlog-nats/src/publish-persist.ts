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

/** Reads the first message on a subject at or after a stream sequence (`EntityMessages.nextOn`). */
export interface NextMessageReader {
  nextOn(
    subject: string,
    fromSeq: number,
  ): Promise<{ readonly seq: number; readonly header?: MsgHdrs | undefined } | null>;
}

/** How often and how patiently to publish. */
export interface PublishOptions {
  readonly timeoutMs: number;
  readonly attempts: number;
  /** Pause before the first retry (then doubling, jittered); default 200 ms. */
  readonly retryDelayMs?: number | undefined;
  /**
   * Where to look for an earlier attempt when the stream refuses the expected sequence after an attempt
   * that may have been stored (see {@link publishPersist}). Without it, that refusal is a
   * `SeqNoConflictError`: for a caller that reads the subject again itself (the epoch marker's writer).
   */
  readonly messages?: NextMessageReader | undefined;
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
 * The stream remembers message ids for its duplicate window only (2 minutes by default, shorter if the
 * stream was created so). A retry later than that, of an attempt that was stored, is refused for its
 * expected sequence: the message in the way is our own. So when the stream refuses the expected sequence
 * after an attempt that may have been stored, the first message after the expected one on the subject is
 * read (`options.messages`): if it carries this persist's message id, the persist is stored there and
 * resolves as its duplicate; otherwise it is another writer's, a real conflict. A conflict reported for our
 * own stored write would make the entity run the command again on a state that already holds its events.
 *
 * Rejects with `SeqNoConflictError` when the stream refuses the expected sequence for another writer's
 * message, and with `PersistError` otherwise: `outcomeUnknown` when some attempt went out and was not
 * answered (or the look-up above failed), known when the client refused before sending or the stream
 * answered with a refusal (it would have answered "duplicate" had an earlier attempt been stored).
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
          if (maybeStored && options.messages !== undefined) {
            return await storedEarlier(options.messages, message, msgID, where, err);
          }
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

/**
 * After the stream refused the expected sequence of a persist some attempt of which may have been stored:
 * that attempt, if stored, is the first message on the subject after the expected one (it was stored
 * expecting that one). Resolves as its duplicate when that message carries `msgID`; rejects with
 * `SeqNoConflictError` when it is another writer's, and with `PersistError` (`outcomeUnknown`) when it
 * cannot be read.
 */
async function storedEarlier(
  messages: NextMessageReader,
  message: PersistMessage,
  msgID: string,
  where: string,
  conflict: unknown,
): Promise<Pick<PubAck, "seq" | "duplicate">> {
  let next: Awaited<ReturnType<NextMessageReader["nextOn"]>>;
  try {
    next = await messages.nextOn(message.subject, message.expectedStreamSeq + 1);
  } catch (err) {
    throw new PersistError(
      `the stream refused the expected sequence of the events of ${where} after an unanswered attempt, and reading whether that attempt is the message in the way failed (${reason(err)}): they may or may not be stored`,
      true,
      { cause: conflict },
    );
  }
  if (next !== null && next.header?.get(MSG_ID_HEADER) === msgID) return { seq: next.seq, duplicate: true };
  throw new SeqNoConflictError(message.type, message.id, message.expectedLastSeqNo, { cause: conflict });
}

/** The header carrying a publish's message id. */
const MSG_ID_HEADER = "Nats-Msg-Id";
