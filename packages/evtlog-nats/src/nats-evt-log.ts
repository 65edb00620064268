import {
  consoleLogger,
  type EvtLog,
  type EvtLogRetention,
  type EvtRecord,
  type EvtsByIdOptions,
  type EvtsByTypeOptions,
  type EvtsDeleted,
  type NewEvt,
  type Persisted,
  SeqNoConflictError,
  type TypedEvtRecord,
  type TypeHead,
} from "@eventsourced/core";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { DEFAULT_CLOSE_TIMEOUT_MS, drainOrClose, settlesWithin } from "./close-connection.js";
import { connectNats, natsTarget, setupError } from "./connect-nats.js";
import { NatsEvtDeletion } from "./delete-evts.js";
import { type EntityIdsOptions, readEntityIds } from "./entity-ids.js";
import { EntityMessages } from "./entity-messages.js";
import { type NatsFence, validateNatsFence } from "./epoch-marker.js";
import { FencedNatsEvtLog } from "./fenced-nats-evt-log.js";
import { LastMessageCache } from "./last-message-cache.js";
import { failLostRequests } from "./lost-requests.js";
import { type NatsEvtLogOptions, validateNatsEvtLogOptions } from "./nats-evt-log-options.js";
import { fenceEntity } from "./nats-fence.js";
import type { NatsLogContext } from "./nats-log-context.js";
import { persistEvts, supersededBy } from "./nats-persist.js";
import { lastSeqNoOf, readEvtsById } from "./nats-read-by-id.js";
import { headOfTypeOf, readEvtsByType } from "./nats-read-by-type.js";
import { PublishMux } from "./publish-mux.js";
import { provisionStream, resolveStreamOptions } from "./stream-provisioning.js";
import { Subjects } from "./subjects.js";

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
  readonly #publisher: PublishMux;
  readonly #stream: string;
  readonly #jsm: JetStreamManager;
  readonly #subjects: Subjects;
  readonly #deletion: NatsEvtDeletion;
  /** The connection, stream and caches the persist, fence and read paths share. */
  readonly #ctx: NatsLogContext;
  readonly #closeTimeoutMs: number;
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
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.#publisher = new PublishMux(fields.nc);
    this.#stream = fields.stream;
    this.#subjects = new Subjects(fields.subjectPrefix);
    const cache = new LastMessageCache(options.cacheSize ?? 100_000);
    this.#ctx = {
      nc: fields.nc,
      readerJs: jetstream(failLostRequests(fields.nc)),
      publisher: this.#publisher,
      stream: fields.stream,
      subjects: this.#subjects,
      messages: fields.messages,
      cache,
      fetchBatch: options.fetchBatch ?? 1_000,
      publishTimeoutMs: options.publishTimeoutMs ?? 5_000,
      publishAttempts: options.publishAttempts ?? 3,
      logger: options.logger ?? consoleLogger,
      closing: this.#closing.signal,
      isClosed: () => this.#closed || this.#nc.isClosed(),
    };
    this.#deletion = new NatsEvtDeletion({
      jsm: fields.jsm,
      stream: fields.stream,
      allowDirect: fields.allowDirect,
      subjects: this.#subjects,
      messages: fields.messages,
      forget: (subject) => cache.forget(subject),
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
    validateNatsEvtLogOptions(options);
    const stream = resolveStreamOptions(options.stream);
    const ownsConnection = options.connection === undefined;
    const nc = options.connection ?? (await connectNats(options));
    try {
      // Lookups (direct gets, stream info) fail at once when their connection is lost, and are sent again
      // once nats.js has reconnected (ADR 0143). Publishes keep their own multiplexer (ADR 0138).
      const jsm = await jetstreamManager(failLostRequests(nc));
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
      return await persistEvts(this.#ctx, type, id, expectedLastSeqNo, evts, fence);
    } catch (err) {
      if (fence === undefined || !(err instanceof SeqNoConflictError)) throw err;
      throw (await supersededBy(this.#ctx, type, id, fence, err)) ?? err;
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
  fence(type: string, id: string, fence: NatsFence): Promise<number> {
    return fenceEntity(this.#ctx, type, id, fence);
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

  /** From the entity's last message on the server (one direct get); see {@link EvtLog.lastSeqNo}. */
  lastSeqNo(type: string, id: string): Promise<number> {
    return lastSeqNoOf(this.#ctx, type, id);
  }

  /** Bounded by the entity's last message when the read starts; see {@link EvtLog.evtsById}. */
  evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    return readEvtsById(this.#ctx, type, id, options);
  }

  /**
   * Filter `<prefix>.<type>.*`; positions are `streamSeq * 65,536 + index in message`. See
   * {@link EvtLog.evtsByType}.
   */
  evtsByType(type: string, options: EvtsByTypeOptions = {}): AsyncIterable<TypedEvtRecord> {
    return readEvtsByType(this.#ctx, type, options);
  }

  /**
   * The type's last message (one direct get): the position of its last event and when it was recorded. See
   * {@link EvtLog.headOfType}.
   */
  headOfType(type: string): Promise<TypeHead | undefined> {
    return headOfTypeOf(this.#ctx, type);
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
   * Ends live by-type readers, waits for outstanding publishes, then closes the connection if this log
   * opened it (drained); a connection passed in as `options.connection` stays open. Takes at most
   * `closeTimeoutMs` (default 5 s), however long the server is away: persists still waiting for their
   * acknowledgement then fail with `PersistError` (`outcomeUnknown: true`) and an owned connection is closed
   * without draining. A persist acknowledged before stays stored. Later persists fail with `PersistError`
   * (`outcomeUnknown: false`).
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    const deadline = Date.now() + this.#closeTimeoutMs;
    // Persists already published are answered (or time out, or are abandoned at the deadline) before the
    // reply subscription goes.
    await settlesWithin(this.#publisher.settled(), this.#closeTimeoutMs);
    this.#publisher.close();
    if (this.#ownsConnection) await drainOrClose(this.#nc, deadline - Date.now());
  }
}

/** Options of one {@link NatsEvtLog.persist}. */
export interface NatsPersistOptions {
  /** Write under this tenure: see {@link NatsEvtLog.persist}. */
  readonly fence?: NatsFence | undefined;
}
