import { ConfigurationError, type EvtMetadata } from "@eventsourced/core";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { ProjectionFencedError } from "../errors.js";
import { fromRequestJson, newRequestJson, type OperatorRequestJson } from "../operator-request-json.js";
import type {
  Advance,
  DeadLetter,
  Fence,
  OperatorRequest,
  ProjectionRow,
  ProjectionStore,
  StoredOperatorRequest,
  StoredProjectionStatus,
} from "../projection-store.js";
import { checkStoreArguments } from "../store-arguments.js";

/** Options of {@link NatsKvProjectionStore.create}. */
export interface NatsKvProjectionStoreOptions {
  /** The connection to use; it stays open when the store is dropped. */
  readonly connection: NatsConnection;
  /** KV bucket (letters, digits, `_`, `-`); created when missing. Default `"eventsourced-projections"`. */
  readonly bucket?: string | undefined;
  /** Storage of a bucket created here. Default `"file"`. */
  readonly storage?: "file" | "memory" | undefined;
  /** Replicas of a bucket created here. Default 1. */
  readonly replicas?: number | undefined;
}

/** The stored checkpoint value (JSON). */
interface CheckpointValue {
  readonly type: string;
  readonly position: number;
  readonly epoch: number;
  readonly status: StoredProjectionStatus;
  readonly error?: string | undefined;
  readonly lastEventAt?: string | undefined;
  readonly requests?: readonly OperatorRequestJson[];
}

/** A stored dead letter (JSON, bytes in base64). */
interface DeadLetterValue extends Omit<DeadLetter, "bytes" | "recordedAt" | "failedAt" | "metadata"> {
  readonly bytes: string;
  readonly recordedAt: string;
  readonly failedAt: string;
  readonly metadata?: EvtMetadata | undefined;
}

/** Read-modify-write rounds of one status change before giving up (each lost round means another write won). */
const MAX_ROUNDS = 20;

/**
 * Checkpoints, status and dead letters in a NATS KV bucket, for at-least-once projections: key `<name>`
 * holds the checkpoint (JSON), keys `<name>.dl.<position>` the dead letters. Every write of the checkpoint
 * is a compare-and-set on the key's revision (`update(key, value, revision)`), after checking that position
 * and epoch are the expected ones: a write by a stale instance fails with `ProjectionFencedError`.
 * @example
 * const store = await NatsKvProjectionStore.create({ connection: nc });
 * const handler = atLeastOnce({ store, handle: (evts) => notify(evts), saveAfterEvents: 100 });
 */
export class NatsKvProjectionStore implements ProjectionStore {
  readonly #kv: KV;
  /** Each checkpoint as this store last wrote or read it: a save usually needs no read first. */
  readonly #known = new Map<string, { value: CheckpointValue; revision: number }>();

  private constructor(kv: KV) {
    this.#kv = kv;
  }

  /** Opens the bucket, creating it (history 1) when missing. */
  static async create(options: NatsKvProjectionStoreOptions): Promise<NatsKvProjectionStore> {
    if (typeof options?.connection !== "object" || options.connection === null) {
      throw new ConfigurationError(
        "NatsKvProjectionStore needs options.connection, an open NATS connection",
        "connection",
        "options",
      );
    }
    const bucket = options.bucket ?? "eventsourced-projections";
    if (!/^[A-Za-z0-9_-]+$/.test(bucket)) {
      throw new ConfigurationError(`invalid bucket name ${JSON.stringify(bucket)}`, "bucket", "options");
    }
    const kv = await new Kvm(options.connection).create(bucket, {
      history: 1,
      storage: options.storage === "memory" ? "memory" : "file",
      replicas: options.replicas ?? 1,
      description: "eventsourced projections: checkpoints and dead letters",
    });
    return new NatsKvProjectionStore(kv);
  }

  async claim(name: string, type: string, epoch: number): Promise<ProjectionRow> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = await this.#read(name);
      if (entry === undefined) {
        const value: CheckpointValue = { type, position: 0, epoch, status: "running" };
        if (await this.#write(name, value, 0)) return toRow(name, value);
        continue;
      }
      const { value } = entry;
      if (value.epoch > epoch) {
        throw new ProjectionFencedError(name, value.position, epoch, {
          detail: `claimed by epoch ${value.epoch}`,
        });
      }
      if (value.type !== type) {
        throw new ConfigurationError(
          `projection ${JSON.stringify(name)} reads type ${JSON.stringify(value.type)}, not ${JSON.stringify(type)}`,
          "type",
          "ProjectionOptions",
        );
      }
      const claimed = { ...value, epoch };
      if (await this.#write(name, claimed, entry.revision)) return toRow(name, claimed);
    }
    throw new Error(`projection ${JSON.stringify(name)}: the checkpoint kept changing while it was claimed`);
  }

  async load(name: string): Promise<ProjectionRow | undefined> {
    const entry = await this.#read(name);
    return entry === undefined ? undefined : toRow(name, entry.value);
  }

  /**
   * Every projection's row, by name (for operators: the `eventsourced projections list` command). Reads the
   * bucket's keys: one round trip per projection.
   */
  async list(): Promise<ProjectionRow[]> {
    const names: string[] = [];
    // Checkpoint keys are single tokens (projection names have no dots); dead letters are `<name>.dl.<n>`.
    for await (const key of await this.#kv.keys("*")) names.push(key);
    const rows: ProjectionRow[] = [];
    for (const name of names.sort()) {
      const row = await this.load(name);
      if (row !== undefined) rows.push(row);
    }
    return rows;
  }

  async save(fence: Fence, advance: Advance): Promise<void> {
    // Before the checkpoint: a crash in between re-applies the event and rewrites the same key.
    for (const letter of advance.deadLetters) await this.#putDeadLetter(letter);
    let known = this.#known.get(fence.name);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const cached = known !== undefined;
      known ??= await this.#read(fence.name);
      if (known === undefined) throw new ProjectionFencedError(fence.name, fence.position, fence.epoch);
      const { value, revision } = known;
      if (value.position !== fence.position || value.epoch !== fence.epoch) {
        // The cache only saves a read: a fence is decided on what the server holds now.
        if (cached) {
          known = undefined;
          continue;
        }
        throw new ProjectionFencedError(fence.name, fence.position, fence.epoch);
      }
      const next: CheckpointValue = {
        ...value,
        position: advance.position,
        lastEventAt: advance.lastEventAt?.toISOString() ?? value.lastEventAt,
      };
      if (await this.#write(fence.name, next, revision)) return;
      // Someone wrote in between (a status change, or another owner): read it and check the fence again.
      known = undefined;
    }
    throw new ProjectionFencedError(fence.name, fence.position, fence.epoch, {
      detail: "the checkpoint kept changing",
    });
  }

  async setStatus(name: string, status: StoredProjectionStatus, error?: string): Promise<void> {
    checkStoreArguments({ status });
    await this.#modify(name, (value) => ({
      ...value,
      status,
      error: status === "failed" ? error : undefined,
    }));
  }

  async reset(name: string, position: number): Promise<void> {
    checkStoreArguments({ position });
    await this.#modify(name, (value) => ({ ...value, position, lastEventAt: undefined }));
    for (const letter of await this.deadLetters(name)) {
      if (letter.position > position) await this.#kv.purge(deadLetterKey(name, letter.position));
    }
  }

  async request(name: string, request: OperatorRequest): Promise<StoredOperatorRequest | undefined> {
    checkStoreArguments({ request });
    const json = newRequestJson(request);
    const done = await this.#modify(name, (value) => ({
      ...value,
      requests: [...(value.requests ?? []), json],
    }));
    return done ? fromRequestJson(json) : undefined;
  }

  async completeRequest(name: string, id: string): Promise<void> {
    await this.#modify(name, (value) => ({
      ...value,
      requests: (value.requests ?? []).filter((r) => r.id !== id),
    }));
  }

  async deadLetters(name: string): Promise<DeadLetter[]> {
    const keys: string[] = [];
    for await (const key of await this.#kv.keys(`${name}.dl.*`)) keys.push(key);
    const letters: DeadLetter[] = [];
    for (const key of keys) {
      const entry = await this.#kv.get(key);
      if (entry !== null && entry.operation === "PUT")
        letters.push(fromDeadLetterValue(entry.json<DeadLetterValue>()));
    }
    return letters.sort((a, b) => a.position - b.position);
  }

  async deleteDeadLetter(name: string, position: number): Promise<boolean> {
    checkStoreArguments({ position });
    const key = deadLetterKey(name, position);
    const entry = await this.#kv.get(key);
    if (entry === null || entry.operation !== "PUT") return false;
    await this.#kv.purge(key);
    return true;
  }

  async #putDeadLetter(letter: DeadLetter): Promise<void> {
    const key = deadLetterKey(letter.projection, letter.position);
    const before = await this.#kv.get(key);
    const attempts = before?.operation === "PUT" ? before.json<DeadLetterValue>().attempts : 0;
    const value: DeadLetterValue = {
      ...letter,
      attempts: attempts + letter.attempts,
      bytes: Buffer.from(letter.bytes.buffer, letter.bytes.byteOffset, letter.bytes.byteLength).toString(
        "base64",
      ),
      recordedAt: letter.recordedAt.toISOString(),
      failedAt: new Date().toISOString(),
    };
    await this.#kv.put(key, JSON.stringify(value));
  }

  /** Read-modify-write by compare-and-set; false when there is no checkpoint. */
  async #modify(name: string, change: (value: CheckpointValue) => CheckpointValue): Promise<boolean> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = await this.#read(name);
      if (entry === undefined) return false;
      if (await this.#write(name, change(entry.value), entry.revision)) return true;
    }
    throw new Error(`projection ${JSON.stringify(name)}: the checkpoint kept changing`);
  }

  async #read(name: string): Promise<{ value: CheckpointValue; revision: number } | undefined> {
    const entry: KvEntry | null = await this.#kv.get(name);
    if (entry === null || entry.operation !== "PUT") {
      this.#known.delete(name);
      return undefined;
    }
    const known = { value: entry.json<CheckpointValue>(), revision: entry.revision };
    this.#remember(name, known);
    return known;
  }

  /**
   * Caches `entry` unless a newer revision is cached: a read answered before a concurrent write (a status
   * poll beside a save) may complete after it, and must not put the older value back.
   */
  #remember(name: string, entry: { value: CheckpointValue; revision: number }): void {
    const cached = this.#known.get(name);
    if (cached === undefined || cached.revision <= entry.revision) this.#known.set(name, entry);
  }

  /** Compare-and-set on `revision` (0: the key must not exist); false when another write got there first. */
  async #write(name: string, value: CheckpointValue, revision: number): Promise<boolean> {
    try {
      const written =
        revision === 0
          ? await this.#kv.create(name, JSON.stringify(value))
          : await this.#kv.update(name, JSON.stringify(value), revision);
      this.#remember(name, { value, revision: written });
      return true;
    } catch (err) {
      if (isWrongLastSequence(err)) {
        this.#known.delete(name);
        return false;
      }
      throw err;
    }
  }
}

function deadLetterKey(name: string, position: number): string {
  return `${name}.dl.${position}`;
}

function isWrongLastSequence(err: unknown): boolean {
  // `create` on an existing key fails the same way, wrapped once by nats.js.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    if (e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamWrongLastSequence) return true;
  }
  return false;
}

function toRow(name: string, value: CheckpointValue): ProjectionRow {
  return {
    name,
    type: value.type,
    position: value.position,
    epoch: value.epoch,
    status: value.status,
    error: value.error,
    lastEventAt: value.lastEventAt === undefined ? undefined : new Date(value.lastEventAt),
    ...(value.requests === undefined || value.requests.length === 0
      ? {}
      : { requests: value.requests.map(fromRequestJson) }),
  };
}

function fromDeadLetterValue(v: DeadLetterValue): DeadLetter {
  return {
    ...v,
    bytes: new Uint8Array(Buffer.from(v.bytes, "base64")),
    recordedAt: new Date(v.recordedAt),
    failedAt: new Date(v.failedAt),
  };
}
