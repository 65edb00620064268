import { DecodeError, EventSourcedError, type Logger, ReadError } from "@eventsourced/core";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { reason } from "./connect-nats.js";
import type { EntityMessage, EntityMessages } from "./entity-messages.js";
import { type DecodedBatch, peekBatchRange } from "./envelope.js";
import { decodeEvtBatch } from "./envelope-decode.js";
import type { LastMessageCache } from "./last-message-cache.js";
import { toPosition } from "./position.js";
import type { PublishMux } from "./publish-mux.js";
import type { Subjects } from "./subjects.js";

/** What the persist, fence and read paths of a `NatsEvtLog` share: its connection, stream and caches. */
export interface NatsLogContext {
  readonly nc: NatsConnection;
  /**
   * For the ordered consumers of reads: a consumer create whose connection is lost fails at once (ADR 0143)
   * and the read resumes on a new consumer, instead of waiting out the request timeout.
   */
  readonly readerJs: JetStreamClient;
  readonly publisher: PublishMux;
  readonly stream: string;
  readonly subjects: Subjects;
  readonly messages: EntityMessages;
  readonly cache: LastMessageCache;
  /** Messages per pull request when reading. */
  readonly fetchBatch: number;
  readonly publishTimeoutMs: number;
  readonly publishAttempts: number;
  readonly logger: Logger;
  /** Aborted by `close()`: live by-type readers end then, as they do on their own signal. */
  readonly closing: AbortSignal;
  /** True once the log or its connection is closed. */
  isClosed(): boolean;
}

/** The entity's last message, from the server (never the cache), remembered for the next persist. */
export async function lastMessage(
  ctx: NatsLogContext,
  type: string,
  id: string,
  subject: string,
): Promise<EntityMessage | undefined> {
  const last = await ctx.messages.last(type, id, subject);
  if (last === undefined) ctx.cache.forget(subject);
  else ctx.cache.set(subject, { lastSeqNo: last.lastSeqNo, streamSeq: last.streamSeq, epoch: last.epoch });
  return last;
}

/** Decodes a message; each record carries its position (`evtsById` returns them as they are). */
export function decodeMessage(type: string, id: string, data: Uint8Array, streamSeq: number): DecodedBatch {
  try {
    const batch = decodeEvtBatch(data);
    batch.records.forEach((record, index) => {
      (record as { position?: number }).position = toPosition(streamSeq, index);
    });
    return batch;
  } catch (cause) {
    throw new DecodeError("event", type, id, peekBatchRange(data)?.firstSeqNo ?? 0, {
      cause: new Error(
        `stream message ${streamSeq}: ${cause instanceof Error ? cause.message : String(cause)}`,
        {
          cause,
        },
      ),
    });
  }
}

/** `err` as it is when it is one of ours, else a `ReadError` with `message` and the reason. */
export function asReadError(err: unknown, message: string): EventSourcedError {
  if (err instanceof EventSourcedError) return err;
  return new ReadError(`${message}: ${reason(err)}`, { cause: err });
}
