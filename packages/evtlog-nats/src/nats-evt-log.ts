import {
  ConfigurationError,
  consoleLogger,
  DecodeError,
  EventSourcedError,
  type EvtLog,
  type EvtLogRetention,
  type EvtRecord,
  type EvtsByIdOptions,
  type EvtsByTypeOptions,
  type EvtsDeleted,
  InvalidArgumentError,
  type Logger,
  type NewEvt,
  OwnershipLostError,
  PersistError,
  type Persisted,
  ReadError,
  SeqNoConflictError,
  type TypedEvtRecord,
  type TypeHead,
} from "@eventsourced/core";
import {
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  type StoredMsg,
} from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { connectNats, natsTarget, reason, setupError } from "./connect-nats.js";
import { NatsEvtDeletion } from "./delete-evts.js";
import { type EntityIdsOptions, readEntityIds } from "./entity-ids.js";
import { type EntityMessage, EntityMessages } from "./entity-messages.js";
import { type DecodedBatch, decodeEvtBatch, encodeEvtBatch, Header, peekBatchRange } from "./envelope.js";
import { markerLastSeqNo, type NatsFence, setFenceHeaders, validateNatsFence } from "./epoch-marker.js";
import { FencedNatsEvtLog } from "./fenced-nats-evt-log.js";
import { LastMessageCache } from "./last-message-cache.js";
import type { NatsEvtLogOptions } from "./nats-evt-log-options.js";
import { MAX_EVTS_PER_PERSIST, resumePoint, toPosition } from "./position.js";
import { PublishMux } from "./publish-mux.js";
import { publishPersist } from "./publish-persist.js";
import { provisionStream, resolveStreamOptions } from "./stream-provisioning.js";
import { readStream } from "./stream-reader.js";
import { Subjects } from "./subjects.js";
import { type FencedHead, writeEpochMarker } from "./write-epoch-marker.js";

/**
 * An {@link EvtLog} on a NATS JetStream stream.
 *
 * Each persist is one message on `<prefix>.<type>.<encoded id>` holding all of the command's events (so it
 * is atomic on nats-server 2.9, which has no batch publish), published with the expected last subject
 * sequence (0 for a new entity), so that a concurrent writer in another process gets `SeqNoConflictError`
 * instead of interleaving. Persists of different entities are pipelined on one connection: each awaits only
 * its own acknowledgement.
 *
 * @example
 * const log = await NatsEvtLog.connect({ servers: "nats://127.0.0.1:4222", stream: { name: "orders" } });
 * const ref = await Entity.spawn(id, orderEntity, { evtLog: log, binarizer: jsonBinarizer() });
 * // ...
 * await log.close();
 */
export class NatsEvtLog implements EvtLog, EvtLogRetention {
  readonly #nc: NatsConnection;
  readonly #ownsConnection: boolean;
  readonly #js: JetStreamClient;
  readonly #publisher: PublishMux;
  readonly #stream: string;
  readonly #subjects: Subjects;
  readonly #messages: EntityMessages;
  readonly #cache: LastMessageCache;
  readonly #fetchBatch: number;
  readonly #publishTimeoutMs: number;
  readonly #publishAttempts: number;
  readonly #logger: Logger;
  readonly #deletion: NatsEvtDeletion;
  readonly #jsm: JetStreamManager;
  #closed = false;
  /** Aborted by `close()`: live by-type readers end then, as they do on their own signal. */
  readonly #closing = new AbortController();

  private constructor(fields: {
    nc: NatsConnection;
    ownsConnection: boolean;
    jsm: JetStreamManager;
    allowDirect: boolean;
    messages: EntityMessages;
    stream: string;
    subjectPrefix: string;
    options: NatsEvtLogOptions;
  }) {
    const { options } = fields;
    this.#nc = fields.nc;
    this.#jsm = fields.jsm;
    this.#ownsConnection = fields.ownsConnection;
    this.#messages = fields.messages;
    this.#js = jetstream(fields.nc);
    this.#publisher = new PublishMux(fields.nc);
    this.#stream = fields.stream;
    this.#subjects = new Subjects(fields.subjectPrefix);
    this.#cache = new LastMessageCache(options.cacheSize ?? 100_000);
    this.#fetchBatch = options.fetchBatch ?? 1_000;
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
    this.#publishAttempts = options.publishAttempts ?? 3;
    this.#logger = options.logger ?? consoleLogger;
    this.#deletion = new NatsEvtDeletion({
      jsm: fields.jsm,
      stream: fields.stream,
      allowDirect: fields.allowDirect,
      subjects: this.#subjects,
      messages: fields.messages,
      forget: (subject) => this.#cache.forget(subject),
    });
  }

  /**
   * Connects (unless `options.connection` is given), then creates or verifies the stream.
   *
   * Rejects with `ConnectionError` (naming the server, never a secret) when the server is unreachable,
   * refuses the credentials or has JetStream disabled, and with `ConfigurationError` (`StreamConfigError`)
   * when an existing stream does not fit or could silently drop events.
   */
  static async connect(options: NatsEvtLogOptions = {}): Promise<NatsEvtLog> {
    validatePositiveInteger(options.fetchBatch, "fetchBatch");
    validatePositiveInteger(options.publishTimeoutMs, "publishTimeoutMs");
    validatePositiveInteger(options.publishAttempts, "publishAttempts");
    if (options.cacheSize !== undefined && !(Number.isInteger(options.cacheSize) && options.cacheSize >= 0)) {
      throw new ConfigurationError(
        `invalid cacheSize ${options.cacheSize}: an integer >= 0`,
        "cacheSize",
        "options",
      );
    }
    const stream = resolveStreamOptions(options.stream);
    const ownsConnection = options.connection === undefined;
    const nc = options.connection ?? (await connectNats(options));
    try {
      const jsm = await jetstreamManager(nc);
      const info = await provisionStream(jsm, stream);
      const allowDirect = info.config.allow_direct === true;
      return new NatsEvtLog({
        nc,
        ownsConnection,
        jsm,
        allowDirect,
        messages: new EntityMessages(jsm, stream.name, allowDirect),
        stream: stream.name,
        subjectPrefix: stream.subjectPrefix,
        options,
      });
    } catch (err) {
      if (ownsConnection) await nc.close().catch(() => {});
      throw setupError(
        err,
        natsTarget(options.servers, options.connection),
        `set up JetStream stream ${JSON.stringify(stream.name)}`,
      );
    }
  }

  /**
   * Always true: `fenced` (epoch markers) needs no configuration, so a cluster fences with it by default.
   */
  get strictFencing(): boolean {
    return true;
  }

  /** The name of the JetStream stream holding the events. */
  get streamName(): string {
    return this.#stream;
  }

  /**
   * One message with all of `evts`, expecting the stream sequence of the entity's last message (0 for a new
   * entity). See {@link EvtLog.persist}; at most `MAX_EVTS_PER_PERSIST` events. With `options.fence`, the
   * message carries the fence's epoch and owner (`Es-Epoch`, `Es-Owner`), and a persist refused because a
   * newer epoch fenced the entity (see {@link NatsEvtLog.fence}) rejects with `OwnershipLostError`.
   */
  async persist(
    type: string,
    id: string,
    expectedLastSeqNo: number,
    evts: readonly NewEvt[],
    options?: NatsPersistOptions,
  ): Promise<Persisted> {
    const fence = options?.fence;
    if (fence !== undefined) validateNatsFence(fence);
    try {
      return await this.#persist(type, id, expectedLastSeqNo, evts, fence);
    } catch (err) {
      if (fence === undefined || !(err instanceof SeqNoConflictError)) throw err;
      throw (await this.#supersededBy(type, id, fence, err)) ?? err;
    }
  }

  /**
   * Strict fencing on NATS: appends an epoch marker to the entity (a message without events, skipped by
   * every reader) so that any write prepared before it, such as a previous owner's late persist, conflicts.
   * Call it when activating an entity after taking its shard over, before reading it; `fenced` does so by
   * itself. Resolves to the entity's last seqNo. Idempotent per epoch; rejects with `OwnershipLostError`
   * when a newer epoch already fenced the entity, `InvalidArgumentError` on a malformed fence, and
   * `PersistError` when the marker could not be written.
   */
  async fence(type: string, id: string, fence: NatsFence): Promise<number> {
    const subject = this.#subjects.entity(type, id);
    validateNatsFence(fence);
    if (this.#closed || this.#nc.isClosed()) {
      throw new PersistError(
        `cannot fence ${type}/${JSON.stringify(id)}: the event log is closed; nothing was sent`,
        false,
      );
    }
    let head: FencedHead;
    try {
      head = await writeEpochMarker(
        {
          js: this.#js,
          type,
          id,
          subject,
          lastMessage: () => this.#lastMessage(type, id, subject),
          publish: { timeoutMs: this.#publishTimeoutMs, attempts: this.#publishAttempts },
        },
        fence,
      );
    } catch (err) {
      this.#cache.forget(subject);
      throw err;
    }
    this.#cache.set(subject, { ...head, epoch: fence.epoch });
    return head.lastSeqNo;
  }

  /**
   * This log seen through one lease tenure (strict fencing on NATS): the first time the view touches an
   * entity (read or persist) it writes the entity's epoch marker (see {@link NatsEvtLog.fence}), and its
   * persists carry the fence. Make one per tenure (for a cluster: per shard and epoch).
   * @example
   * const shardLog = log.fenced({ epoch: lease.epoch, owner: lease.owner });
   */
  fenced(fence: NatsFence): FencedNatsEvtLog {
    validateNatsFence(fence);
    return new FencedNatsEvtLog(this, { ...fence });
  }

  /** The `OwnershipLostError` for a fenced persist that conflicted, if a newer epoch fenced the entity. */
  async #supersededBy(
    type: string,
    id: string,
    fence: NatsFence,
    conflict: SeqNoConflictError,
  ): Promise<OwnershipLostError | undefined> {
    const last = await this.#lastMessage(type, id, this.#subjects.entity(type, id)).catch(() => undefined);
    if (last?.epoch === undefined || last.epoch <= fence.epoch) return undefined;
    return new OwnershipLostError(
      type,
      id,
      `epoch ${fence.epoch} is superseded: the entity was fenced under epoch ${last.epoch}; nothing was written`,
      { cause: conflict },
    );
  }

  async #persist(
    type: string,
    id: string,
    expectedLastSeqNo: number,
    evts: readonly NewEvt[],
    fence: NatsFence | undefined,
  ): Promise<Persisted> {
    // Every argument is checked before anything is sent or looked up.
    const subject = this.#subjects.entity(type, id);
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
    if (this.#closed || this.#nc.isClosed()) {
      throw new PersistError(
        `cannot persist ${type}/${JSON.stringify(id)}: the event log is closed; nothing was sent`,
        false,
      );
    }
    // Headers count too; a message that fits only without them is refused by the client before sending.
    const maxPayload = this.#nc.info?.max_payload;
    if (maxPayload !== undefined && body.length > maxPayload) {
      throw new PersistError(
        `the ${evts.length} events of ${type}/${JSON.stringify(id)} encode to ${body.length} bytes, more than the server's max_payload of ${maxPayload}`,
        false,
      );
    }
    // The usual case (the entity's own last persist is remembered) publishes without awaiting anything else.
    const cached = this.#cache.get(subject);
    const pinned =
      cached !== undefined && cached.lastSeqNo === expectedLastSeqNo
        ? cached
        : await this.#expectedStreamSeq(type, id, subject, expectedLastSeqNo);
    const expectedStreamSeq = pinned.streamSeq;
    // The publish will land right after the message it pins: refuse when a newer epoch wrote that one.
    if (fence !== undefined && pinned.epoch !== undefined && pinned.epoch > fence.epoch) {
      throw new OwnershipLostError(
        type,
        id,
        `epoch ${fence.epoch} is superseded: the entity was fenced under epoch ${pinned.epoch}; nothing was written`,
      );
    }
    const hdrs = headers();
    hdrs.set(Header.FirstSeq, String(expectedLastSeqNo + 1));
    hdrs.set(Header.Count, String(evts.length));
    if (fence !== undefined) setFenceHeaders(hdrs, fence);
    let ack: { seq: number };
    try {
      ack = await publishPersist(
        this.#publisher,
        { type, id, subject, body, headers: hdrs, expectedLastSeqNo, expectedStreamSeq },
        { timeoutMs: this.#publishTimeoutMs, attempts: this.#publishAttempts },
      );
    } catch (err) {
      if (err instanceof SeqNoConflictError) this.#cache.forget(subject);
      throw err;
    }
    const lastSeqNo = expectedLastSeqNo + evts.length;
    this.#cache.set(subject, { lastSeqNo, streamSeq: ack.seq, epoch: fence?.epoch });
    return { seqNo: lastSeqNo, position: toPosition(ack.seq, evts.length - 1) };
  }

  /** From the entity's last message on the server (one direct get); see {@link EvtLog.lastSeqNo}. */
  async lastSeqNo(type: string, id: string): Promise<number> {
    const subject = this.#subjects.entity(type, id);
    try {
      return (await this.#lastMessage(type, id, subject))?.lastSeqNo ?? 0;
    } catch (err) {
      throw asReadError(err, `cannot read the last seqNo of ${type}/${JSON.stringify(id)}`);
    }
  }

  /** Bounded by the entity's last message when the read starts; see {@link EvtLog.evtsById}. */
  async *evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    const subject = this.#subjects.entity(type, id);
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
      last = await this.#lastMessage(type, id, subject);
    } catch (err) {
      throw asReadError(err, `cannot read the events of ${type}/${JSON.stringify(id)}`);
    }
    if (last === undefined || last.lastSeqNo < from) return;
    const to = Math.min(options.to ?? Number.POSITIVE_INFINITY, last.lastSeqNo);
    if (last.firstSeqNo <= from) {
      // Everything asked for is in the last message (typical after a snapshot or a conflict): no consumer.
      for (const record of this.#decode(type, id, last.data, last.streamSeq).records) {
        if (signal?.aborted) return;
        if (record.seqNo >= from && record.seqNo <= to) yield record;
      }
      return;
    }
    let startSeq = 1;
    if (from > 1) {
      try {
        startSeq = await this.#messages.streamSeqHolding(type, id, subject, from, last.streamSeq);
      } catch (err) {
        throw asReadError(err, `cannot read the events of ${type}/${JSON.stringify(id)}`);
      }
    }
    let expected: number | undefined;
    for await (const msgs of readStream(this.#js, {
      stream: this.#stream,
      filter: subject,
      startSeq,
      endSeq: last.streamSeq,
      batch: this.#fetchBatch,
      ...(signal === undefined ? {} : { signal }),
      logger: this.#logger,
    })) {
      for (const msg of msgs) {
        if (markerLastSeqNo(msg.headers) !== undefined) continue;
        const range = peekBatchRange(msg.data) ?? this.#decode(type, id, msg.data, msg.seq);
        if (expected !== undefined && range.firstSeqNo !== expected) {
          throw new ReadError(
            `the log of ${type}/${JSON.stringify(id)} is not contiguous: expected seqNo ${expected}, stream message ${msg.seq} starts at ${range.firstSeqNo}`,
          );
        }
        expected = range.firstSeqNo + range.count;
        if (expected <= from) continue;
        for (const record of this.#decode(type, id, msg.data, msg.seq).records) {
          if (record.seqNo > to) return;
          if (signal?.aborted) return;
          if (record.seqNo >= from) yield record;
        }
        if (expected > to) return;
      }
    }
  }

  /**
   * Filter `<prefix>.<type>.*`; positions are `streamSeq * 65,536 + index in message`. See
   * {@link EvtLog.evtsByType}.
   */
  async *evtsByType(type: string, options: EvtsByTypeOptions = {}): AsyncIterable<TypedEvtRecord> {
    const filter = this.#subjects.byType(type);
    const { live = false } = options;
    const start = resumePoint(options.after ?? 0);
    // A live reader also ends when the log closes (otherwise it would retry a closed connection for ever).
    const signal =
      live && options.signal !== undefined
        ? AbortSignal.any([options.signal, this.#closing.signal])
        : live
          ? this.#closing.signal
          : options.signal;
    if (signal?.aborted) return;
    let endSeq: number | undefined;
    if (!live) {
      let last: StoredMsg | null;
      try {
        last = await this.#messages.lastOn(filter);
      } catch (err) {
        throw asReadError(err, `cannot read the events of type ${type}`);
      }
      if (last === null || last.seq < start.streamSeq) return;
      endSeq = last.seq;
    }
    for await (const msgs of readStream(this.#js, {
      stream: this.#stream,
      filter,
      startSeq: start.streamSeq,
      ...(endSeq === undefined ? {} : { endSeq }),
      batch: this.#fetchBatch,
      ...(signal === undefined ? {} : { signal }),
      logger: this.#logger,
    })) {
      for (const msg of msgs) {
        if (markerLastSeqNo(msg.headers) !== undefined) continue;
        const skip = msg.seq === start.streamSeq ? start.index : 0;
        let id: string | undefined;
        let records: DecodedBatch["records"];
        try {
          try {
            id = this.#subjects.idOf(msg.subject);
          } catch (cause) {
            throw new ReadError(
              `stream message ${msg.seq} on ${msg.subject} was not written by eventsourced`,
              {
                cause,
              },
            );
          }
          records = this.#decode(type, id, msg.data, msg.seq).records;
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

  /**
   * The type's last message (one direct get): the position of its last event and when it was recorded. See
   * {@link EvtLog.headOfType}.
   */
  async headOfType(type: string): Promise<TypeHead | undefined> {
    const filter = this.#subjects.byType(type);
    let last: StoredMsg | null;
    try {
      last = await this.#messages.lastEventOn(filter);
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

  /**
   * Ids of the entities of `type` that have messages in the stream, in JavaScript string order, a page at a
   * time: pass the last id of a page as `after`. For operators (the `eventsourced entities list` command);
   * the server lists all of the type's subjects for each call (see `entity-ids.ts`).
   */
  entityIds(type: string, options: EntityIdsOptions = {}): Promise<string[]> {
    return readEntityIds(this.#jsm, this.#stream, this.#subjects, type, options);
  }

  /**
   * Purges the entity's messages that hold only seqNos <= `toSeqNo`, always keeping its last message (see
   * `delete-evts.ts`). See {@link EvtLogRetention.deleteEvts}.
   */
  deleteEvts(type: string, id: string, toSeqNo: number): Promise<EvtsDeleted> {
    return this.#deletion.deleteEvts(type, id, toSeqNo);
  }

  /** From the entity's first remaining message; see {@link EvtLogRetention.deletedTo}. */
  deletedTo(type: string, id: string): Promise<number> {
    return this.#deletion.deletedTo(type, id);
  }

  /** Purges every message of the entity, the last one included; see {@link EvtLogRetention.resetEntity}. */
  resetEntity(type: string, id: string, expectedLastSeqNo: number): Promise<void> {
    return this.#deletion.resetEntity(type, id, expectedLastSeqNo);
  }

  /**
   * Ends live by-type readers, then closes the connection if this log opened it (waiting for outstanding
   * publishes); a connection passed in as `options.connection` stays open. Later persists fail with
   * `PersistError` (`outcomeUnknown: false`).
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    // Persists already published are answered (or time out) before the reply subscription goes.
    await this.#publisher.settled();
    this.#publisher.close();
    if (this.#ownsConnection && !this.#nc.isClosed()) await this.#nc.drain();
  }

  async #expectedStreamSeq(
    type: string,
    id: string,
    subject: string,
    expectedLastSeqNo: number,
  ): Promise<{ streamSeq: number; epoch: number | undefined }> {
    let last: EntityMessage | undefined;
    try {
      last = await this.#lastMessage(type, id, subject);
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

  /** The entity's last message, from the server (never the cache), remembered for the next persist. */
  async #lastMessage(type: string, id: string, subject: string): Promise<EntityMessage | undefined> {
    const last = await this.#messages.last(type, id, subject);
    if (last === undefined) this.#cache.forget(subject);
    else
      this.#cache.set(subject, { lastSeqNo: last.lastSeqNo, streamSeq: last.streamSeq, epoch: last.epoch });
    return last;
  }

  /** Decodes a message; each record carries its position (`evtsById` returns them as they are). */
  #decode(type: string, id: string, data: Uint8Array, streamSeq: number): DecodedBatch {
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

function asReadError(err: unknown, message: string): EventSourcedError {
  if (err instanceof EventSourcedError) return err;
  return new ReadError(`${message}: ${reason(err)}`, { cause: err });
}

function validatePositiveInteger(value: number | undefined, key: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
    throw new ConfigurationError(`invalid ${key} ${value}: a positive integer`, key, "options");
  }
}

/** Options of one {@link NatsEvtLog.persist}. */
export interface NatsPersistOptions {
  /** Write under this tenure: see {@link NatsEvtLog.persist}. */
  readonly fence?: NatsFence | undefined;
}
