import { ConnectionError } from "@eventsourced/core";
import { JetStreamApiCodes, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  byTypeThenMember,
  type ClusterStoreInspector,
  type LiveMember,
  type RecordedShardFunction,
} from "./cluster-store-inspector.js";
import {
  bucketPrefixOf,
  configBucketName,
  isMembersBucket,
  type NatsClusterStoreOptions,
} from "./nats-cluster-store.js";
import { recordedShardConfig, shardConfigKey } from "./shard-config-check.js";

const SOURCE = "inspectNatsClusterStore";
const decoder = new TextDecoder();

/**
 * Opens the buckets of {@link NatsClusterStore} with the same `bucketPrefix` for an operator's tool: reads
 * the recorded shard functions and the live members of every member TTL, and can forget a shard function.
 * Creates nothing. The store's `memberTtlMs` does not matter here: members buckets of every TTL are read.
 */
export async function inspectNatsClusterStore(
  nc: NatsConnection,
  options: Pick<NatsClusterStoreOptions, "bucketPrefix" | "timeoutMs"> = {},
): Promise<ClusterStoreInspector> {
  const prefix = bucketPrefixOf(options.bucketPrefix, SOURCE);
  const jsm = await jetstreamManager(nc, { timeout: options.timeoutMs ?? 5_000 });
  return new NatsClusterStoreInspector(jsm, prefix);
}

class NatsClusterStoreInspector implements ClusterStoreInspector {
  readonly where: string;
  readonly #jsm: JetStreamManager;
  readonly #prefix: string;
  readonly #configStream: string;

  constructor(jsm: JetStreamManager, prefix: string) {
    this.#jsm = jsm;
    this.#prefix = prefix;
    this.#configStream = `KV_${configBucketName(prefix)}`;
    this.where = `NATS KV buckets ${prefix}-config and ${prefix}-members-<ttl>ms`;
  }

  async shardFunction(cluster: string): Promise<RecordedShardFunction | undefined> {
    const key = shardConfigKey(cluster);
    const message = await this.#call("read the shard function", () =>
      this.#jsm.streams.getMessage(this.#configStream, {
        last_by_subj: `$KV.${configBucketName(this.#prefix)}.${key}`,
      }),
    );
    if (message === null) return undefined;
    const operation = message.header?.get("KV-Operation");
    if (operation === "DEL" || operation === "PURGE") return undefined;
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(message.data));
    } catch (error) {
      return {
        value: decoder.decode(message.data),
        config: undefined,
        problem: `not JSON: ${String(error)}`,
      };
    }
    try {
      return { value, config: recordedShardConfig(key, value) };
    } catch (error) {
      return { value, config: undefined, problem: (error as Error).message };
    }
  }

  async liveMembers(cluster: string): Promise<LiveMember[]> {
    const buckets: string[] = [];
    await this.#call("list the members buckets", async () => {
      for await (const stream of this.#jsm.streams.names()) {
        const bucket = stream.startsWith("KV_") ? stream.slice(3) : "";
        if (isMembersBucket(this.#prefix, bucket)) buckets.push(bucket);
      }
      return null;
    });
    const members: LiveMember[] = [];
    for (const bucket of buckets) {
      const prefix = `$KV.${bucket}.${cluster}.`;
      const info = await this.#call("list the members", () =>
        this.#jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` }),
      );
      for (const subject of Object.keys(info?.state.subjects ?? {})) {
        // Keys are `<cluster>.<type>.<member>`; member ids have no dots, a type may.
        const rest = subject.slice(prefix.length);
        const dot = rest.lastIndexOf(".");
        if (dot > 0) members.push({ type: rest.slice(0, dot), member: rest.slice(dot + 1) });
      }
    }
    return members.sort(byTypeThenMember);
  }

  async forgetShardFunction(cluster: string): Promise<boolean> {
    const recorded = await this.shardFunction(cluster);
    // A purge leaves no delete marker behind, so the next `create` of the key needs no special case.
    await this.#call("forget the shard function", () =>
      this.#jsm.streams.purge(this.#configStream, {
        filter: `$KV.${configBucketName(this.#prefix)}.${shardConfigKey(cluster)}`,
      }),
    );
    return recorded !== undefined;
  }

  /** Runs a JetStream request; a missing stream or message is `null`, anything else a `ConnectionError`. */
  async #call<T>(what: string, request: () => Promise<T>): Promise<T | null> {
    try {
      return await request();
    } catch (error) {
      // By shape, so that an error from another copy of @nats-io/jetstream is recognised too.
      const shaped = error as { apiError?: () => { err_code?: number } };
      const code = typeof shaped.apiError === "function" ? shaped.apiError().err_code : undefined;
      if (code === JetStreamApiCodes.StreamNotFound || code === JetStreamApiCodes.NoMessageFound) return null;
      throw new ConnectionError(`cannot ${what} in ${this.where}: ${String(error)}`, "NATS KV", {
        cause: error,
      });
    }
  }
}
