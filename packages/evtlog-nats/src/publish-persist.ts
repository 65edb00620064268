import { PersistError, SeqNoConflictError } from "@eventsourced/core";
import { JetStreamApiError, type JetStreamClient, type PubAck } from "@nats-io/jetstream";
import { type MsgHdrs, nuid, TimeoutError } from "@nats-io/transport-node";
import { reason } from "./connect-nats.js";

/** JetStream API error: the expected last subject sequence did not match. */
const WRONG_LAST_SEQUENCE = 10071;

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

/**
 * Publishes one persist's message and waits for its acknowledgement, retrying while the server does not
 * answer (timeouts; no JetStream responder while a restarted server recovers its streams).
 *
 * Every attempt carries the same `Nats-Msg-Id`, fresh for this persist: a retry of an attempt that did reach
 * the stream is acknowledged as a duplicate of it (the server checks duplicates before the expected
 * sequence), so it is stored once, while another writer's message with the same seqNos can never be
 * mistaken for ours. A NUID: 22 characters, a random per-process prefix plus a sequence.
 *
 * Rejects with `SeqNoConflictError` when the stream refuses the expected sequence (error 10071), and with
 * `PersistError` otherwise: `outcomeUnknown` when some attempt went unanswered, known when the stream
 * answered with a refusal (it would have answered "duplicate" had an earlier attempt been stored).
 */
export async function publishPersist(
  js: JetStreamClient,
  message: PersistMessage,
  options: { readonly timeoutMs: number; readonly attempts: number },
): Promise<PubAck> {
  const { type, id, subject } = message;
  const where = `${type}/${JSON.stringify(id)}`;
  const msgID = nuid.next();
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
      if (err instanceof JetStreamApiError) {
        if (err.code === WRONG_LAST_SEQUENCE) {
          throw new SeqNoConflictError(type, id, message.expectedLastSeqNo, { cause: err });
        }
        throw new PersistError(`the stream refused the events of ${where}: ${err.message}`, false, {
          cause: err,
        });
      }
      const noAnswer = err instanceof TimeoutError;
      // nats.js reports "no JetStream answered" (disabled, or not ready after a restart) by this name.
      const notReady = err instanceof Error && err.name === "JetStreamNotEnabled";
      if (!noAnswer && !notReady) {
        throw new PersistError(`persisting the events of ${where} failed: ${reason(err)}`, true, {
          cause: err,
        });
      }
      maybeStored ||= noAnswer;
      if (attempt >= options.attempts) {
        throw new PersistError(
          noAnswer
            ? `no acknowledgement for the events of ${where} after ${attempt} attempts: they may or may not be stored`
            : `no JetStream stream answered on ${subject} after ${attempt} attempts`,
          maybeStored,
          { cause: err },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}
