import { type EvtRecord, type EvtsByIdOptions, InvalidArgumentError, ReadError } from "@eventsourced/core";
import type { EntityMessage } from "./entity-messages.js";
import { peekBatchRange } from "./envelope.js";
import { isEpochMarker } from "./epoch-marker.js";
import { asReadError, decodeMessage, lastMessage, type NatsLogContext } from "./nats-log-context.js";
import { readStream } from "./stream-reader.js";

/** `NatsEvtLog.lastSeqNo`: from the entity's last message on the server (one direct get). */
export async function lastSeqNoOf(ctx: NatsLogContext, type: string, id: string): Promise<number> {
  const subject = ctx.subjects.entity(type, id);
  try {
    return (await lastMessage(ctx, type, id, subject))?.lastSeqNo ?? 0;
  } catch (err) {
    throw asReadError(err, `cannot read the last seqNo of ${type}/${JSON.stringify(id)}`);
  }
}

/** `NatsEvtLog.evtsById`: bounded by the entity's last message when the read starts. */
export async function* readEvtsById(
  ctx: NatsLogContext,
  type: string,
  id: string,
  options: EvtsByIdOptions,
): AsyncIterable<EvtRecord> {
  const subject = ctx.subjects.entity(type, id);
  const from = options?.from;
  if (!Number.isSafeInteger(from) || from < 1) {
    throw new InvalidArgumentError(`invalid seqNo ${from} to read from: must be an integer >= 1`);
  }
  const { signal } = options;
  if (options.to !== undefined && !Number.isSafeInteger(options.to)) {
    throw new InvalidArgumentError(`invalid seqNo ${options.to} to read to: must be an integer`);
  }
  if ((options.to !== undefined && options.to < from) || signal?.aborted) return;
  let last: EntityMessage | undefined;
  try {
    last = await lastMessage(ctx, type, id, subject);
  } catch (err) {
    throw asReadError(err, `cannot read the events of ${type}/${JSON.stringify(id)}`);
  }
  if (last === undefined || last.lastSeqNo < from) return;
  const to = Math.min(options.to ?? Number.POSITIVE_INFINITY, last.lastSeqNo);
  if (last.firstSeqNo <= from) {
    // Everything asked for is in the last message (typical after a snapshot or a conflict): no consumer.
    for (const record of decodeMessage(type, id, last.data, last.streamSeq).records) {
      if (signal?.aborted) return;
      if (record.seqNo >= from && record.seqNo <= to) yield record;
    }
    return;
  }
  let startSeq = 1;
  if (from > 1) {
    try {
      startSeq = await ctx.messages.streamSeqHolding(type, id, subject, from, last.streamSeq);
    } catch (err) {
      throw asReadError(err, `cannot read the events of ${type}/${JSON.stringify(id)}`);
    }
  }
  let expected: number | undefined;
  for await (const msgs of readStream(ctx.readerJs, {
    stream: ctx.stream,
    filter: subject,
    startSeq,
    endSeq: last.streamSeq,
    batch: ctx.fetchBatch,
    ...(signal === undefined ? {} : { signal }),
    logger: ctx.logger,
  })) {
    for (const msg of msgs) {
      if (isEpochMarker(msg)) continue;
      const range = peekBatchRange(msg.data) ?? decodeMessage(type, id, msg.data, msg.seq);
      if (expected !== undefined && range.firstSeqNo !== expected) {
        throw new ReadError(
          `the log of ${type}/${JSON.stringify(id)} is not contiguous: expected seqNo ${expected}, stream message ${msg.seq} starts at ${range.firstSeqNo}`,
        );
      }
      expected = range.firstSeqNo + range.count;
      if (expected <= from) continue;
      for (const record of decodeMessage(type, id, msg.data, msg.seq).records) {
        if (record.seqNo > to) return;
        if (signal?.aborted) return;
        if (record.seqNo >= from) yield record;
      }
      if (expected > to) return;
    }
  }
}
