import {
  ConfigurationError,
  EventSourcedError,
  type EvtsDeleted,
  InvalidArgumentError,
  PersistError,
  ReadError,
  SeqNoConflictError,
} from "@eventsourced/core";
import type { JetStreamManager, MsgRequest, StoredMsg } from "@nats-io/jetstream";
import { reason } from "./connect-nats.js";
import type { EntityMessages } from "./entity-messages.js";
import { Header, peekBatchRange } from "./envelope.js";
import { markerLastSeqNo } from "./epoch-marker.js";
import type { Subjects } from "./subjects.js";

/** What the deletion needs from the log it belongs to. */
export interface NatsEvtDeletionContext {
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly allowDirect: boolean;
  readonly subjects: Subjects;
  readonly messages: EntityMessages;
  /** Drops what the log remembers about an entity's last message (after a reset). */
  readonly forget: (subject: string) => void;
}

/**
 * The `EvtLogRetention` half of `NatsEvtLog`. Deletion purges whole messages of the entity's subject,
 * `purge { filter: <subject>, seq: <first message to keep> }` (up to, not including, that message), and
 * **always keeps the entity's last message**: purging every message of a subject resets its last subject
 * sequence to 0 on nats-server 2.9, after which a publish expecting 0 would be accepted and the entity's
 * seqNos would start over (verified on 2.9.10). Since the last message survives, the expected-last-subject-
 * sequence check of every later persist keeps working, and so does the log's last-message cache.
 *
 * How far deletion reached is read from the entity's first remaining message (its first seqNo - 1), so it
 * needs no bookkeeping of its own and two processes deleting at once agree.
 */
export class NatsEvtDeletion {
  readonly #ctx: NatsEvtDeletionContext;

  constructor(ctx: NatsEvtDeletionContext) {
    this.#ctx = ctx;
  }

  async deleteEvts(type: string, id: string, toSeqNo: number): Promise<EvtsDeleted> {
    const subject = this.#ctx.subjects.entity(type, id);
    if (!Number.isSafeInteger(toSeqNo) || toSeqNo < 0) {
      throw new InvalidArgumentError(`invalid seqNo ${toSeqNo} to delete to: an integer >= 0`);
    }
    const where = `${type}/${JSON.stringify(id)}`;
    let keepFrom: number;
    // Known without another lookup when everything before the last message goes.
    let deletedTo: number | undefined;
    try {
      const last = await this.#ctx.messages.last(type, id, subject);
      if (last === undefined) return { deletedTo: 0, removed: 0 };
      const upTo = Math.min(toSeqNo, last.lastSeqNo);
      if (upTo >= last.firstSeqNo - 1) {
        // Every message but the last holds only seqNos <= upTo; the last one stays in any case.
        keepFrom = last.streamSeq;
        deletedTo = last.firstSeqNo - 1;
      } else {
        // The message holding seqNo upTo + 1 stays. Without direct get `streamSeqHolding` answers 1, i.e.
        // nothing is purged: deleting part of a history needs `allow_direct` (streams we create have it).
        keepFrom = await this.#ctx.messages.streamSeqHolding(type, id, subject, upTo + 1, last.streamSeq);
      }
    } catch (err) {
      throw asEventSourced(
        err,
        (message, options) => new ReadError(`cannot delete events of ${where}: ${message}`, options),
      );
    }
    let removed = 0;
    // Up to, not including, keepFrom; idempotent, and a message published meanwhile has a higher sequence.
    // Never with keepFrom <= 1: the server reads a purge sequence of 0 or 1 as "no bound" and purges every
    // message of the subject (nats-server 2.9 `PurgeEx`), the last one included. Nothing precedes sequence
    // 1 anyway.
    if (keepFrom > 1) {
      try {
        const purged = await this.#ctx.jsm.streams.purge(this.#ctx.stream, {
          filter: subject,
          seq: keepFrom,
        });
        removed = purged.purged;
      } catch (err) {
        throw await this.#purgeError(err, where);
      }
    }
    return { deletedTo: deletedTo ?? (await this.deletedTo(type, id)), removed };
  }

  async deletedTo(type: string, id: string): Promise<number> {
    const subject = this.#ctx.subjects.entity(type, id);
    try {
      return await this.#deletedTo(type, id, subject);
    } catch (err) {
      throw asEventSourced(
        err,
        (message, options) =>
          new ReadError(`cannot read how far ${type}/${JSON.stringify(id)} was deleted: ${message}`, options),
      );
    }
  }

  async resetEntity(type: string, id: string, expectedLastSeqNo: number): Promise<void> {
    const subject = this.#ctx.subjects.entity(type, id);
    if (!Number.isSafeInteger(expectedLastSeqNo) || expectedLastSeqNo < 0) {
      throw new InvalidArgumentError(`invalid expected last seqNo ${expectedLastSeqNo}: an integer >= 0`);
    }
    const where = `${type}/${JSON.stringify(id)}`;
    let lastStreamSeq: number;
    try {
      const last = await this.#ctx.messages.last(type, id, subject);
      const actual = last?.lastSeqNo ?? 0;
      if (actual !== expectedLastSeqNo) {
        throw new SeqNoConflictError(type, id, expectedLastSeqNo, { actualLastSeqNo: actual });
      }
      if (last === undefined) return;
      lastStreamSeq = last.streamSeq;
    } catch (err) {
      throw asEventSourced(
        err,
        (message, options) => new ReadError(`cannot reset ${where}: ${message}`, options),
      );
    }
    try {
      // Up to and including the last message we checked: a message published since then survives.
      await this.#ctx.jsm.streams.purge(this.#ctx.stream, { filter: subject, seq: lastStreamSeq + 1 });
    } catch (err) {
      throw await this.#purgeError(err, where);
    } finally {
      this.#ctx.forget(subject);
    }
  }

  /** The entity's first remaining message's first seqNo - 1; 0 when it has no messages. */
  async #deletedTo(type: string, id: string, subject: string): Promise<number> {
    const { jsm, stream, allowDirect } = this.#ctx;
    const query = { seq: 1, next_by_subj: subject };
    const first: StoredMsg | null = allowDirect
      ? await jsm.direct.getMessage(stream, query)
      : // The server's message-get API takes next_by_subj too; nats.js types only the direct variant.
        await jsm.streams.getMessage(stream, query as unknown as MsgRequest);
    if (first === null) return 0;
    const marked = markerLastSeqNo(first.header);
    const firstSeqNo =
      marked !== undefined
        ? marked + 1
        : (peekBatchRange(first.data)?.firstSeqNo ?? Number(first.header?.get(Header.FirstSeq)));
    if (!Number.isSafeInteger(firstSeqNo) || firstSeqNo < 1) {
      throw new ReadError(
        `stream message ${first.seq} of ${type}/${JSON.stringify(id)} is not an event batch`,
      );
    }
    return firstSeqNo - 1;
  }

  /** A refused purge: a stream that denies purges is a configuration problem, anything else a failed write. */
  async #purgeError(err: unknown, where: string): Promise<EventSourcedError> {
    const denied = await this.#ctx.jsm.streams
      .info(this.#ctx.stream)
      .then((info) => info.config.deny_purge === true)
      .catch(() => false);
    if (denied) {
      return new ConfigurationError(
        `cannot delete events of ${where}: stream ${JSON.stringify(this.#ctx.stream)} denies purges (deny_purge), so retention cannot run on it`,
        "stream.deny_purge",
        "server",
        { cause: err },
      );
    }
    // A purge that went out unanswered may have happened; running it again is harmless.
    return new PersistError(`cannot delete events of ${where}: ${reason(err)}`, true, { cause: err });
  }
}

function asEventSourced(
  err: unknown,
  wrap: (message: string, options: { cause: unknown }) => EventSourcedError,
): EventSourcedError {
  return err instanceof EventSourcedError ? err : wrap(reason(err), { cause: err });
}
