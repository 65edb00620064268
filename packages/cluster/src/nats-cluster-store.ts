import { ConfigurationError, ConnectionError } from "@eventsourced/core";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ClusterStore } from "./cluster-store.js";
import type { ShardConfig } from "./errors.js";
import { recordedShardConfig, shardConfigKey } from "./shard-config-check.js";

const SOURCE = "NatsClusterStoreOptions";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options of {@link NatsClusterStore.create}. */
export interface NatsClusterStoreOptions {
  /**
   * How long a heartbeat keeps a member alive: the `max_age` of the members bucket (NATS 2.9 has no
   * per-key TTL, so the TTL belongs to the bucket), in milliseconds, 1,000 to 600,000. Default 5,000, the lease TTL of the examples: a dead member keeps its shards assigned until its heartbeat expires, so takeover after a crash takes max(member TTL, lease TTL) + `rebalanceEveryMs`.
   */
  readonly memberTtlMs?: number | undefined;
  /** Prefix of the two bucket names (`<prefix>-config`, `<prefix>-members-<memberTtlMs>ms`); default `eventsourced-cluster`. */
  readonly bucketPrefix?: string | undefined;
  /** Timeout of each KV request; default 5,000 ms. */
  readonly timeoutMs?: number | undefined;
}

/**
 * {@link ClusterStore} in NATS KV: the shard function in a bucket without TTL (`create` records it once,
 * atomically), members as keys `<cluster>.<type>.<member>` of a bucket whose `max_age` is the member TTL,
 * so a member that stops heartbeating disappears on the server's clock. A bucket whose stored TTL,
 * history or storage differ from what is asked is refused with `ConfigurationError` (an existing bucket
 * keeps its settings, and NATS 2.9 would silently ignore settings it does not know).
 *
 * A request whose connection is lost fails at once instead of waiting out `timeoutMs`: a read
 * (`members`, `shardConfig`) is sent again once nats.js has reconnected, a write (`heartbeat`, `leave`,
 * `recordShardConfig`) fails with `RequestLostError` (`NATS_REQUEST_LOST`, outcome unknown). This needs
 * the optional peer `@eventsourced/evtlog-nats` (ADR 0151); without it `create` rejects with
 * `ConfigurationError`.
 * @example
 * const store = await NatsClusterStore.create(nc, { memberTtlMs: 5_000 });
 */
export class NatsClusterStore implements ClusterStore {
  readonly memberTtlMs: number;
  readonly #config: KV;
  readonly #members: KV;
  readonly #jsm: JetStreamManager;
  readonly #membersBucket: string;

  private constructor(
    memberTtlMs: number,
    config: KV,
    members: KV,
    jsm: JetStreamManager,
    membersBucket: string,
  ) {
    this.memberTtlMs = memberTtlMs;
    this.#config = config;
    this.#members = members;
    this.#jsm = jsm;
    this.#membersBucket = membersBucket;
  }

  /** Opens (creating when missing) and checks the two buckets. */
  static async create(nc: NatsConnection, options: NatsClusterStoreOptions = {}): Promise<NatsClusterStore> {
    const memberTtlMs = options.memberTtlMs ?? 5_000;
    if (!Number.isInteger(memberTtlMs) || memberTtlMs < 1_000 || memberTtlMs > 600_000) {
      throw new ConfigurationError(
        `memberTtlMs must be an integer from 1000 to 600000, got ${String(memberTtlMs)}`,
        "memberTtlMs",
        SOURCE,
      );
    }
    const prefix = bucketPrefixOf(options.bucketPrefix, SOURCE);
    const timeout = options.timeoutMs ?? 5_000;
    const connection = await failingLostRequests(nc);
    const kvm = new Kvm(jetstream(connection, { timeout }));
    try {
      const membersBucket = membersBucketName(prefix, memberTtlMs);
      const config = await openBucket(kvm, configBucketName(prefix), 0);
      const members = await openBucket(kvm, membersBucket, memberTtlMs);
      const jsm = await jetstreamManager(connection, { timeout });
      return new NatsClusterStore(memberTtlMs, config, members, jsm, membersBucket);
    } catch (err) {
      if (err instanceof ConfigurationError) throw err;
      throw new ConnectionError(`cannot open the cluster KV buckets: ${String(err)}`, "NATS KV", {
        cause: err,
      });
    }
  }

  async recordShardConfig(cluster: string, config: ShardConfig): Promise<ShardConfig> {
    const key = shardConfigKey(cluster);
    const value = encoder.encode(JSON.stringify({ shardCount: config.shardCount, hash: config.hash }));
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#config.create(key, value);
        return config;
      } catch (err) {
        const recorded = await this.shardConfig(cluster);
        if (recorded !== undefined) return recorded;
        if (attempt >= 2) throw err;
      }
    }
  }

  async shardConfig(cluster: string): Promise<ShardConfig | undefined> {
    const key = shardConfigKey(cluster);
    const entry = await this.#config.get(key);
    if (entry === null || entry.operation !== "PUT") return undefined;
    let recorded: unknown;
    try {
      recorded = JSON.parse(decoder.decode(entry.value));
    } catch (error) {
      throw new ConfigurationError(
        `the recorded shard function ${JSON.stringify(key)} is not JSON: ${String(error)}`,
        key,
        SOURCE,
        { cause: error },
      );
    }
    return recordedShardConfig(key, recorded);
  }

  async heartbeat(cluster: string, type: string, member: string): Promise<void> {
    await this.#members.put(`${cluster}.${type}.${member}`, encoder.encode(member));
  }

  /**
   * One stream-info request listing the subjects that hold a message: a member's key disappears when its
   * last heartbeat expires (`max_age`) or it left. `kv.keys()` is not used: its consumer waits for a
   * message whose pending count is 0, which may never come when messages expire while it reads (they do
   * here all the time), and a rebalancing round would hang on it.
   */
  async members(cluster: string, type: string): Promise<string[]> {
    const prefix = `$KV.${this.#membersBucket}.${cluster}.${type}.`;
    const info = await this.#jsm.streams.info(`KV_${this.#membersBucket}`, { subjects_filter: `${prefix}*` });
    return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
  }

  /** Purges the member's subject (no delete marker is left behind to be listed). */
  async leave(cluster: string, type: string, member: string): Promise<void> {
    await this.#jsm.streams.purge(`KV_${this.#membersBucket}`, {
      filter: `$KV.${this.#membersBucket}.${cluster}.${type}.${member}`,
    });
  }
}

/**
 * `nc` failing its lost requests at once (`failLostRequests` of `@eventsourced/evtlog-nats`, an optional
 * peer loaded here only, so that a cluster on PostgreSQL does not need it; ADR 0151).
 */
async function failingLostRequests(nc: NatsConnection): Promise<NatsConnection> {
  let internal: typeof import("@eventsourced/evtlog-nats/internal");
  try {
    internal = await import("@eventsourced/evtlog-nats/internal");
  } catch (err) {
    throw new ConfigurationError(
      `NatsClusterStore needs the package @eventsourced/evtlog-nats (an optional peer of @eventsourced/cluster): install it, or give the node a PostgresClusterStore (${String(err)})`,
      "nats",
      SOURCE,
      { cause: err },
    );
  }
  return internal.failLostRequests(nc);
}

/** The prefix of the cluster's bucket names, checked; default `eventsourced-cluster`. */
export function bucketPrefixOf(prefix: string | undefined, source: string): string {
  const checked = prefix ?? "eventsourced-cluster";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(checked)) {
    throw new ConfigurationError(
      `bucketPrefix ${JSON.stringify(checked)} must be 1 to 64 letters, digits, "_" or "-"`,
      "bucketPrefix",
      source,
    );
  }
  return checked;
}

/** The bucket of the recorded shard functions (no TTL). */
export function configBucketName(prefix: string): string {
  return `${prefix}-config`;
}

/** The bucket of the members' heartbeats, one per member TTL (the bucket's `max_age`). */
export function membersBucketName(prefix: string, memberTtlMs: number): string {
  return `${prefix}-members-${memberTtlMs}ms`;
}

/** Whether `bucket` is a members bucket of `prefix` (whatever its TTL). */
export function isMembersBucket(prefix: string, bucket: string): boolean {
  return bucket.startsWith(`${prefix}-members-`) && /^\d+ms$/.test(bucket.slice(prefix.length + 9));
}

async function openBucket(kvm: Kvm, name: string, ttlMs: number): Promise<KV> {
  const kv = await kvm.create(name, {
    history: 1,
    storage: "file",
    ...(ttlMs > 0 ? { ttl: ttlMs } : {}),
    description: ttlMs > 0 ? `eventsourced cluster members, TTL ${ttlMs} ms` : "eventsourced cluster config",
  });
  const status = await kv.status();
  const problems: string[] = [];
  if (status.ttl !== ttlMs) problems.push(`its TTL (max_age) is ${status.ttl} ms, not ${ttlMs} ms`);
  if (status.history !== 1) problems.push(`it keeps ${status.history} revisions per key, not 1`);
  if (status.streamInfo.config.storage !== "file") {
    problems.push(`its storage is ${status.streamInfo.config.storage}, not file`);
  }
  if (problems.length > 0) {
    throw new ConfigurationError(
      `KV bucket ${JSON.stringify(name)} cannot serve this cluster: ${problems.join("; ")}`,
      "bucketPrefix",
      SOURCE,
    );
  }
  return kv;
}
