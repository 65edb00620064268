import {
  EventSourcedError,
  type EvtsByTypeOptions,
  linkSignals,
  ReadError,
  type TypedEvtRecord,
  type TypeHead,
} from "@eventsourced/core";
import type { JsMsg, StoredMsg } from "@nats-io/jetstream";
import { type DecodedBatch, Header, peekBatchRange } from "./envelope.js";
import { decodeEvtBatch } from "./envelope-decode.js";
import { isEpochMarker } from "./epoch-marker.js";
import { asReadError, decodeMessage, type NatsLogContext } from "./nats-log-context.js";
import { resumePoint, toPosition } from "./position.js";
import { readStream } from "./stream-reader.js";

/**
 * `NatsEvtLog.evtsByType`: filter `<prefix>.<type>.*`; positions are `streamSeq * 65,536 + index in
 * message`.
 */
export async function* readEvtsByType(
  ctx: NatsLogContext,
  type: string,
  options: EvtsByTypeOptions,
): AsyncIterable<TypedEvtRecord> {
  if (!options.live) return yield* readUntil(ctx, type, options, options.signal);
  // A live reader also ends when the log closes (otherwise it would retry a closed connection for ever).
  // Not `AbortSignal.any`: on Node 20 each read would leave an entry on the log's closing signal.
  const linked = linkSignals([options.signal, ctx.closing]);
  try {
    yield* readUntil(ctx, type, options, linked.signal);
  } finally {
    linked.dispose();
  }
}

/** {@link readEvtsByType} until `signal` aborts. */
async function* readUntil(
  ctx: NatsLogContext,
  type: string,
  options: EvtsByTypeOptions,
  signal: AbortSignal | undefined,
): AsyncIterable<TypedEvtRecord> {
  const filter = ctx.subjects.byType(type);
  const { live = false } = options;
  const start = resumePoint(options.after ?? 0);
  if (signal?.aborted) return;
  let endSeq: number | undefined;
  if (!live) {
    let last: StoredMsg | null;
    try {
      last = await ctx.messages.lastOn(filter);
    } catch (err) {
      throw asReadError(err, `cannot read the events of type ${type}`);
    }
    if (last === null || last.seq < start.streamSeq) return;
    endSeq = last.seq;
  }
  for await (const msgs of readStream(ctx.readerJs, {
    stream: ctx.stream,
    filter,
    startSeq: start.streamSeq,
    ...(endSeq === undefined ? {} : { endSeq }),
    batch: ctx.fetchBatch,
    ...(signal === undefined ? {} : { signal }),
    logger: ctx.logger,
  })) {
    for (const msg of msgs) {
      if (isEpochMarker(msg)) continue;
      const skip = msg.seq === start.streamSeq ? start.index : 0;
      let id: string | undefined;
      let records: DecodedBatch["records"];
      try {
        try {
          id = ctx.subjects.idOf(msg.subject);
        } catch (cause) {
          throw new ReadError(`stream message ${msg.seq} on ${msg.subject} was not written by eventsourced`, {
            cause,
          });
        }
        records = decodeMessage(type, id, msg.data, msg.seq).records;
      } catch (err) {
        if (options.undecodable !== "yield" || !(err instanceof EventSourcedError)) throw err;
        if (skip > 0 || signal?.aborted) continue;
        yield undecodableRecord(type, id ?? msg.subject, msg, err);
        continue;
      }
      for (let index = skip; index < records.length; index++) {
        if (signal?.aborted) return;
        const record = records[index]!;
        yield {
          seqNo: record.seqNo,
          bytes: record.bytes,
          recordedAt: record.recordedAt,
          ...(record.contentType === undefined ? {} : { contentType: record.contentType }),
          ...(record.metadata === undefined ? {} : { metadata: record.metadata }),
          type,
          id,
          position: toPosition(msg.seq, index),
        };
      }
    }
  }
}

/** `NatsEvtLog.headOfType`: the type's last message (one direct get). */
export async function headOfTypeOf(ctx: NatsLogContext, type: string): Promise<TypeHead | undefined> {
  const filter = ctx.subjects.byType(type);
  let last: StoredMsg | null;
  try {
    last = await ctx.messages.lastEventOn(filter);
  } catch (err) {
    throw asReadError(err, `cannot read the last event of type ${type}`);
  }
  if (last === null) return undefined;
  const range = peekBatchRange(last.data);
  let recordedAt = last.time;
  try {
    recordedAt = decodeEvtBatch(last.data).records.at(-1)?.recordedAt ?? last.time;
  } catch {
    // A foreign message: its position is still the head; the server's receive time stands in.
  }
  return { position: toPosition(last.seq, Math.max(0, (range?.count ?? 1) - 1)), recordedAt };
}

/** A message `evtsByType` could not decode, handed over as one record carrying the error. */
function undecodableRecord(type: string, id: string, msg: JsMsg, err: EventSourcedError): TypedEvtRecord {
  const firstSeq = Number(msg.headers?.get(Header.FirstSeq));
  return {
    type,
    id,
    seqNo: Number.isSafeInteger(firstSeq) && firstSeq > 0 ? firstSeq : 0,
    position: toPosition(msg.seq, 0),
    bytes: msg.data,
    recordedAt: new Date(Math.floor(msg.info.timestampNanos / 1e6)),
    undecodable: err,
  };
}
