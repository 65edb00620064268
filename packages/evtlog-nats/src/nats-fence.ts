import { PersistError } from "@eventsourced/core";
import { type NatsFence, validateNatsFence } from "./epoch-marker.js";
import { lastMessage, type NatsLogContext } from "./nats-log-context.js";
import { type FencedHead, writeEpochMarker } from "./write-epoch-marker.js";

/**
 * `NatsEvtLog.fence`: validates the fence, writes the entity's epoch marker and remembers it as
 * the entity's last message; resolves to the entity's last seqNo.
 */
export async function fenceEntity(
  ctx: NatsLogContext,
  type: string,
  id: string,
  fence: NatsFence,
): Promise<number> {
  const subject = ctx.subjects.entity(type, id);
  validateNatsFence(fence);
  if (ctx.isClosed()) {
    throw new PersistError(
      `cannot fence ${type}/${JSON.stringify(id)}: the event log is closed; nothing was sent`,
      false,
    );
  }
  let head: FencedHead;
  try {
    head = await writeEpochMarker(
      {
        publisher: ctx.publisher,
        type,
        id,
        subject,
        lastMessage: () => lastMessage(ctx, type, id, subject),
        publish: { timeoutMs: ctx.publishTimeoutMs, attempts: ctx.publishAttempts },
      },
      fence,
    );
  } catch (err) {
    ctx.cache.forget(subject);
    throw err;
  }
  ctx.cache.set(subject, { ...head, epoch: fence.epoch });
  return head.lastSeqNo;
}
