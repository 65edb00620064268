import {
  InvalidArgumentError,
  PersistError,
  ReadError,
  type Snapshot,
  type SnapshotStore,
  validateSnapshot,
} from "@eventsourced/core";
import {
  ApiCode,
  classifyPublishFailure,
  connectNats,
  drainOrClose,
  failLostRequests,
  jetStreamApiCode,
  natsTarget,
  reason,
  setupError,
} from "@eventsourced/evtlog-nats/internal";
import { jetstreamManager } from "@nats-io/jetstream";
import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { KeyRevisions } from "./key-revisions.js";
import { checkOptions, type NatsSnapshotStoreOptions } from "./nats-snapshot-store-options.js";
import { snapshotKey } from "./snapshot-key.js";
import { SnapshotTooLargeError } from "./snapshot-too-large-error.js";
import {
  decodeSnapshotValue,
  encodeSnapshotValue,
  SNAPSHOT_VALUE_OVERHEAD,
  storedSeqNoOf,
} from "./snapshot-value.js";

/**
 * Room for the headers of a compare-and-set write (`Nats-Expected-Last-Subject-Sequence`, about 70 bytes):
 * the server counts headers against both the bucket's max value size and max_payload.
 */
const HEADER_ALLOWANCE = 128;
/** Compare-and-set rounds of one save before giving up (each lost round means another save won). */
const MAX_SAVE_ROUNDS = 50;

/**
 * A {@link SnapshotStore} in a NATS KV bucket: key `<type>.<encoded id>` (the id mapping of the NATS event
 * log's subjects), value = format byte + seqNo (8 bytes, big-endian) + version (format 2) + state bytes
 * (see `snapshot-value.ts`); the bucket's history keeps the newest `history` snapshots.
 *
 * A save reads the current entry and writes with the entry's revision as the expected one (compare and set),
 * retrying when another save got in between, so a snapshot with a higher seqNo is never replaced by an older
 * one, even when saves race across processes.
 *
 * @example
 * const snapshots = await NatsSnapshotStore.create({ servers: "nats://127.0.0.1:4222" });
 * const ref = await Entity.spawn(id, counter, { evtLog, snapshotStore: snapshots, snapshotAfter: 100 });
 */
export class NatsSnapshotStore implements SnapshotStore {
  /** Snapshots kept per entity. */
  readonly history: number;
  readonly #nc: NatsConnection;
  readonly #ownsConnection: boolean;
  readonly #closeTimeoutMs: number;
  readonly #kv: KV;
  readonly #maxValueBytes: number;
  /** Direct-get reads of a key's revisions, when the bucket allows direct gets. */
  readonly #revisions: KeyRevisions | undefined;
  /** Revisions per key the bucket keeps (at least `history`). */
  readonly #bucketHistory: number;

  private constructor(fields: {
    nc: NatsConnection;
    ownsConnection: boolean;
    closeTimeoutMs: number;
    kv: KV;
    maxValueBytes: number;
    history: number;
    bucketHistory: number;
    revisions: KeyRevisions | undefined;
  }) {
    this.#nc = fields.nc;
    this.#ownsConnection = fields.ownsConnection;
    this.#closeTimeoutMs = fields.closeTimeoutMs;
    this.#kv = fields.kv;
    this.#maxValueBytes = fields.maxValueBytes;
    this.history = fields.history;
    this.#bucketHistory = fields.bucketHistory;
    this.#revisions = fields.revisions;
  }

  /**
   * Connects (unless `options.connection` is given) and opens the bucket, creating it when missing.
   * Rejects with `ConnectionError` (no secrets) when the server is unreachable, refuses the credentials or
   * has no JetStream, and with `ConfigurationError` for invalid options.
   */
  static async create(options: NatsSnapshotStoreOptions = {}): Promise<NatsSnapshotStore> {
    const { bucket, history, closeTimeoutMs } = checkOptions(options);
    const ownsConnection = options.connection === undefined;
    const nc = options.connection ?? (await connectNats({ ...options, name: "eventsourced-snapshots" }));
    // A request whose connection is lost fails at once (a save's write as outcome unknown) and a lost read
    // is sent again on the new connection, instead of waiting out the request timeout (ADR 0143).
    const watched = failLostRequests(nc);
    try {
      const kv = await new Kvm(watched).create(bucket, {
        history,
        storage: options.storage === "memory" ? "memory" : "file",
        replicas: options.replicas ?? 1,
        ...(options.maxValueSize === undefined ? {} : { maxValueSize: options.maxValueSize }),
        description: "eventsourced snapshots: latest state per entity",
      });
      let status = await kv.status();
      const jsm = await jetstreamManager(watched);
      if (status.history < history) {
        // An existing bucket (e.g. from before history was configured): keep more revisions from now on.
        const info = await jsm.streams.info(status.streamInfo.config.name);
        await jsm.streams.update(info.config.name, { ...info.config, max_msgs_per_subject: history });
        status = await kv.status();
      }
      const config = status.streamInfo.config;
      const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
      const bucketLimit = status.maxValueSize > 0 ? status.maxValueSize : Number.POSITIVE_INFINITY;
      return new NatsSnapshotStore({
        nc,
        ownsConnection,
        closeTimeoutMs,
        kv,
        maxValueBytes: Math.min(maxPayload, bucketLimit) - HEADER_ALLOWANCE,
        history,
        bucketHistory: status.history,
        revisions: config.allow_direct === true ? new KeyRevisions(jsm, config.name, bucket) : undefined,
      });
    } catch (err) {
      if (ownsConnection) await nc.close().catch(() => {});
      throw setupError(
        err,
        natsTarget(options.servers, options.connection),
        `open KV bucket ${JSON.stringify(bucket)}`,
      );
    }
  }

  /** The largest state (in bytes) a snapshot may have in this bucket. */
  get maxStateBytes(): number {
    return this.#maxValueBytes - SNAPSHOT_VALUE_OVERHEAD;
  }

  /**
   * Saves the snapshot (and its version) unless one with the same or a higher seqNo is stored; the
   * bucket's history drops the oldest revision beyond `history`. Rejects with
   * `InvalidArgumentError` (nothing sent) on an invalid type, id or seqNo or bytes that are not a
   * `Uint8Array`, with `SnapshotTooLargeError` when the value does not fit, and with `PersistError`
   * otherwise (`outcomeUnknown` when a write went out unanswered).
   */
  async save(type: string, id: string, snapshot: Snapshot): Promise<void> {
    const key = snapshotKey(type, id);
    validateSnapshot(snapshot);
    let value: Uint8Array;
    try {
      value = encodeSnapshotValue(snapshot);
    } catch (cause) {
      throw new InvalidArgumentError(`invalid snapshot: ${(cause as Error).message}`, { cause });
    }
    if (value.length > this.#maxValueBytes) {
      throw new SnapshotTooLargeError(type, id, value.length, this.#maxValueBytes);
    }
    const where = `${type}/${JSON.stringify(id)}`;
    for (let round = 0; round < MAX_SAVE_ROUNDS; round++) {
      let entry: KvEntry | null;
      try {
        entry = await this.#kv.get(key);
      } catch (err) {
        throw new PersistError(`cannot save the snapshot of ${where}: ${reason(err)}`, false, { cause: err });
      }
      if (entry !== null && entry.operation === "PUT" && storedSeqNoOf(entry.value) >= snapshot.seqNo) return;
      try {
        if (entry === null) await this.#kv.create(key, value);
        else await this.#kv.update(key, value, entry.revision);
        return;
      } catch (err) {
        const failure = classifyPublishFailure(err);
        if (failure === "conflict") continue; // another save won this round: look again
        if (jetStreamApiCode(err) === ApiCode.MessageExceedsMaximum) {
          throw new SnapshotTooLargeError(type, id, value.length, this.#maxValueBytes, { cause: err });
        }
        throw new PersistError(
          `cannot save the snapshot of ${where}: ${reason(err)}`,
          failure === "unanswered" || failure === "unknown",
          { cause: err },
        );
      }
    }
    throw new PersistError(
      `cannot save the snapshot of ${where}: still contended after ${MAX_SAVE_ROUNDS} rounds`,
      false,
    );
  }

  /** The latest snapshot (`ReadError` when the bucket cannot be read, `DecodeError` for a foreign value). */
  async load(type: string, id: string): Promise<Snapshot | undefined> {
    const key = snapshotKey(type, id);
    let entry: KvEntry | null;
    try {
      entry = await this.#kv.get(key);
    } catch (err) {
      throw new ReadError(`cannot load the snapshot of ${type}/${JSON.stringify(id)}: ${reason(err)}`, {
        cause: err,
      });
    }
    if (entry === null || entry.operation !== "PUT") return undefined;
    return decodeSnapshotValue(entry.value, type, id);
  }

  /**
   * The kept snapshots (at most `history`), newest first, from the key's revisions after its last purge:
   * one direct get per revision the bucket keeps (an ordered consumer when the bucket has no direct get).
   */
  async loadAll(type: string, id: string): Promise<readonly Snapshot[]> {
    const key = snapshotKey(type, id);
    let values: Uint8Array[] = [];
    try {
      if (this.#revisions !== undefined) {
        values = await this.#revisions.values(key, this.#bucketHistory);
      } else {
        for await (const entry of await this.#kv.history({ key })) {
          // Oldest first: a purge or delete marker makes everything before it gone.
          if (entry.operation === "PUT") values.push(entry.value);
          else values.length = 0;
        }
      }
    } catch (err) {
      throw new ReadError(`cannot load the snapshots of ${type}/${JSON.stringify(id)}: ${reason(err)}`, {
        cause: err,
      });
    }
    return values
      .map((value) => decodeSnapshotValue(value, type, id))
      .sort((a, b) => b.seqNo - a.seqNo)
      .slice(0, this.history);
  }

  /** Purges the key: every revision goes, a purge marker stays (`PersistError` when that fails). */
  async deleteAll(type: string, id: string): Promise<void> {
    const key = snapshotKey(type, id);
    try {
      await this.#kv.purge(key);
    } catch (err) {
      throw new PersistError(
        `cannot delete the snapshots of ${type}/${JSON.stringify(id)}: ${reason(err)}`,
        classifyPublishFailure(err) !== "conflict",
        { cause: err },
      );
    }
  }

  /**
   * Closes the connection if this store opened it (drained, or closed at once when the server does not
   * answer within `closeTimeoutMs`); a connection passed in stays open.
   */
  async close(): Promise<void> {
    if (this.#ownsConnection) await drainOrClose(this.#nc, this.#closeTimeoutMs);
  }
}
