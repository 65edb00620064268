import {
  InvalidArgumentError,
  type NewEvt,
  OwnershipLostError,
  PersistError,
  type Persisted,
  SeqNoConflictError,
} from "@eventsourced/core";
import { reason } from "./connect-nats.js";
import type { EntityMessage } from "./entity-messages.js";
import { Header } from "./envelope.js";
import { encodeEvtBatch } from "./envelope-encode.js";
import { type NatsFence, setFenceHeaders } from "./epoch-marker.js";
import { lastMessage, type NatsLogContext } from "./nats-log-context.js";
import { PersistHeaders } from "./persist-headers.js";
import { MAX_EVTS_PER_PERSIST, toPosition } from "./position.js";
import { publishPersist } from "./publish-persist.js";

/**
 * The persist path of `NatsEvtLog.persist` (the fence already validated): checks every argument, pins the
 * entity's last message (cache or server), publishes one message expecting its stream sequence, and
 * remembers the new last message.
 */
export async function persistEvts(
  ctx: NatsLogContext,
  type: string,
  id: string,
  expectedLastSeqNo: number,
  evts: readonly NewEvt[],
  fence: NatsFence | undefined,
): Promise<Persisted> {
  // Every argument is checked before anything is sent or looked up.
  const subject = ctx.subjects.entity(type, id);
  if (!Number.isSafeInteger(expectedLastSeqNo) || expectedLastSeqNo < 0) {
    throw new InvalidArgumentError(`invalid expectedLastSeqNo ${expectedLastSeqNo}: an integer >= 0`);
  }
  if (!Array.isArray(evts) || evts.length === 0) {
    throw new InvalidArgumentError("persist needs at least one event");
  }
  if (evts.length > MAX_EVTS_PER_PERSIST) {
    throw new InvalidArgumentError(
      `a persist on NATS carries at most ${MAX_EVTS_PER_PERSIST} events (one message per command); got ${evts.length}`,
    );
  }
  const body = encodeEvtBatch(expectedLastSeqNo + 1, evts, Date.now());
  if (ctx.isClosed()) {
    throw new PersistError(
      `cannot persist ${type}/${JSON.stringify(id)}: the event log is closed; nothing was sent`,
      false,
    );
  }
  // Headers count too; a message that fits only without them is refused by the client before sending.
  const maxPayload = ctx.nc.info?.max_payload;
  if (maxPayload !== undefined && body.length > maxPayload) {
    throw new PersistError(
      `the ${evts.length} events of ${type}/${JSON.stringify(id)} encode to ${body.length} bytes, more than the server's max_payload of ${maxPayload}`,
      false,
    );
  }
  // The usual case (the entity's own last persist is remembered) publishes without awaiting anything else.
  const cached = ctx.cache.get(subject);
  const pinned =
    cached !== undefined && cached.lastSeqNo === expectedLastSeqNo
      ? cached
      : await fetchExpectedStreamSeq(ctx, type, id, subject, expectedLastSeqNo);
  const expectedStreamSeq = pinned.streamSeq;
  // The publish will land right after the message it pins: refuse when a newer epoch wrote that one.
  if (fence !== undefined && pinned.epoch !== undefined && pinned.epoch > fence.epoch) {
    throw new OwnershipLostError(
      type,
      id,
      `epoch ${fence.epoch} is superseded: the entity was fenced under epoch ${pinned.epoch}; nothing was written`,
    );
  }
  const hdrs = new PersistHeaders();
  hdrs.set(Header.FirstSeq, String(expectedLastSeqNo + 1));
  hdrs.set(Header.Count, String(evts.length));
  if (fence !== undefined) setFenceHeaders(hdrs, fence);
  let ack: { seq: number };
  try {
    ack = await publishPersist(
      ctx.publisher,
      { type, id, subject, body, headers: hdrs, expectedLastSeqNo, expectedStreamSeq },
      { timeoutMs: ctx.publishTimeoutMs, attempts: ctx.publishAttempts, messages: ctx.messages },
    );
  } catch (err) {
    if (err instanceof SeqNoConflictError) ctx.cache.forget(subject);
    throw err;
  }
  const lastSeqNo = expectedLastSeqNo + evts.length;
  ctx.cache.set(subject, { lastSeqNo, streamSeq: ack.seq, epoch: fence?.epoch });
  return { seqNo: lastSeqNo, position: toPosition(ack.seq, evts.length - 1) };
}

/** The `OwnershipLostError` for a fenced persist that conflicted, if a newer epoch fenced the entity. */
export async function supersededBy(
  ctx: NatsLogContext,
  type: string,
  id: string,
  fence: NatsFence,
  conflict: SeqNoConflictError,
): Promise<OwnershipLostError | undefined> {
  const last = await lastMessage(ctx, type, id, ctx.subjects.entity(type, id)).catch(() => undefined);
  if (last?.epoch === undefined || last.epoch <= fence.epoch) return undefined;
  return new OwnershipLostError(
    type,
    id,
    `epoch ${fence.epoch} is superseded: the entity was fenced under epoch ${last.epoch}; nothing was written`,
    { cause: conflict },
  );
}

/** The stream sequence (and epoch) of the entity's last message from the server, checked against the expected seqNo. */
async function fetchExpectedStreamSeq(
  ctx: NatsLogContext,
  type: string,
  id: string,
  subject: string,
  expectedLastSeqNo: number,
): Promise<{ streamSeq: number; epoch: number | undefined }> {
  let last: EntityMessage | undefined;
  try {
    last = await lastMessage(ctx, type, id, subject);
  } catch (err) {
    throw new PersistError(
      `cannot persist to ${type}/${JSON.stringify(id)}: reading its last message failed: ${reason(err)}`,
      false,
      { cause: err },
    );
  }
  const actual = last?.lastSeqNo ?? 0;
  if (actual !== expectedLastSeqNo) {
    throw new SeqNoConflictError(type, id, expectedLastSeqNo, { actualLastSeqNo: actual });
  }
  return { streamSeq: last?.streamSeq ?? 0, epoch: last?.epoch };
}
