import { DecodeError } from "@eventsourced/core";
import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { type BatchRange, Header, peekBatchRange } from "./envelope.js";
import { markerLastSeqNo, messageEpoch } from "./epoch-marker.js";

/** One stored message of an entity, with the seqNos it holds. */
export interface EntityMessage extends BatchRange {
  /** The entity's last seqNo in this message. */
  readonly lastSeqNo: number;
  readonly streamSeq: number;
  readonly data: Uint8Array;
  /** An epoch marker (no events: `count` 0, `firstSeqNo` = `lastSeqNo` + 1). */
  readonly marker: boolean;
  /** The epoch it was written under (`Es-Epoch`), if any. */
  readonly epoch: number | undefined;
}

/**
 * Single-message lookups in the stream: an entity's last message, a type's last message, and the message
 * holding a given seqNo. They use the direct-get API when the stream allows it (streams we create do): raw
 * bytes, no JSON/base64 round trip, and "next message on a subject" for the bisection.
 */
export class EntityMessages {
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #direct: boolean;

  constructor(jsm: JetStreamManager, stream: string, allowDirect: boolean) {
    this.#jsm = jsm;
    this.#stream = stream;
    this.#direct = allowDirect;
  }

  /** The entity's last message, or undefined when it has none. */
  async last(type: string, id: string, subject: string): Promise<EntityMessage | undefined> {
    const msg = await this.lastOn(subject);
    return msg === null ? undefined : entityMessage(type, id, msg);
  }

  /** The last message on `subject`, which may be a wildcard filter (`<prefix>.<type>.*`). */
  lastOn(subject: string): Promise<StoredMsg | null> {
    return this.#direct
      ? this.#jsm.direct.getMessage(this.#stream, { last_by_subj: subject })
      : this.#jsm.streams.getMessage(this.#stream, { last_by_subj: subject });
  }

  /**
   * The first message on `subject` at or after stream sequence `fromSeq` (null when there is none). Needs
   * direct get (streams this package creates allow it); rejects without it.
   */
  nextOn(subject: string, fromSeq: number): Promise<StoredMsg | null> {
    if (!this.#direct) {
      return Promise.reject(new Error(`stream ${JSON.stringify(this.#stream)} does not allow direct get`));
    }
    return this.#jsm.direct.getMessage(this.#stream, { seq: fromSeq, next_by_subj: subject });
  }

  /**
   * The last message on `filter` that is not an epoch marker (null when there is none): the last message
   * when it is not a marker, else found by stepping back in growing windows (markers come in short runs,
   * written when entities are activated after a takeover). Without direct get, the last message.
   */
  async lastEventOn(filter: string): Promise<StoredMsg | null> {
    const last = await this.lastOn(filter);
    if (last === null || markerLastSeqNo(last.header) === undefined || !this.#direct) return last;
    let end = last.seq; // messages on the filter from `end` to the head are markers
    for (let step = 16; ; step *= 4) {
      const start = Math.max(1, end - step);
      let found: StoredMsg | null = null;
      for (let seq = start; seq < end; ) {
        const msg = await this.#jsm.direct.getMessage(this.#stream, { seq, next_by_subj: filter });
        if (msg === null || msg.seq >= end) break;
        if (markerLastSeqNo(msg.header) === undefined) found = msg;
        seq = msg.seq + 1;
      }
      if (found !== null) return found;
      if (start === 1) return null;
      end = start;
    }
  }

  /**
   * The stream sequence to start reading the entity at so that seqNo `from` is not missed: the sequence of
   * the message holding it, found by bisecting [1, lastStreamSeq] with "next message on this subject at or
   * after sequence N" lookups (about log2(stream length) round trips). Recovery after a snapshot thus reads
   * only what follows the snapshot, however long the entity's history. Without direct get: 1.
   */
  async streamSeqHolding(
    type: string,
    id: string,
    subject: string,
    from: number,
    lastStreamSeq: number,
  ): Promise<number> {
    if (!this.#direct) return 1;
    // Invariant: the message holding `from` has a stream sequence in [lo, hi].
    let lo = 1;
    let hi = lastStreamSeq;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const msg = await this.#jsm.direct.getMessage(this.#stream, { seq: mid, next_by_subj: subject });
      if (msg === null || msg.seq > hi) {
        hi = mid - 1; // none of the entity's messages in [mid, hi]
        continue;
      }
      const found = entityMessage(type, id, msg);
      if (found.lastSeqNo < from) lo = msg.seq + 1;
      else if (found.firstSeqNo <= from) return msg.seq;
      else hi = mid - 1; // the entity's first message at or after mid is already past `from`
    }
    return Math.max(1, lo);
  }
}

/** The seqNos of a stored message: from the start of its body, else from its headers. */
function entityMessage(type: string, id: string, msg: StoredMsg): EntityMessage {
  const epoch = messageEpoch(msg.header);
  const marked = markerLastSeqNo(msg.header);
  if (marked !== undefined) {
    return {
      firstSeqNo: marked + 1,
      count: 0,
      lastSeqNo: marked,
      streamSeq: msg.seq,
      data: msg.data,
      marker: true,
      epoch,
    };
  }
  const range = peekBatchRange(msg.data) ?? headerRange(msg);
  if (range === undefined) {
    throw new DecodeError("event", type, id, 0, {
      cause: new Error(`stream message ${msg.seq} is not an eventsourced event batch`),
    });
  }
  return {
    ...range,
    lastSeqNo: range.firstSeqNo + range.count - 1,
    streamSeq: msg.seq,
    data: msg.data,
    marker: false,
    epoch,
  };
}

function headerRange(msg: StoredMsg): BatchRange | undefined {
  const firstSeqNo = Number(msg.header?.get(Header.FirstSeq));
  const count = Number(msg.header?.get(Header.Count));
  const valid =
    Number.isSafeInteger(firstSeqNo) && firstSeqNo >= 1 && Number.isSafeInteger(count) && count >= 1;
  return valid ? { firstSeqNo, count } : undefined;
}
