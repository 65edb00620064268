import { ConfigurationError } from "@eventsourced/core";
import type { ClusterStore } from "./cluster-store.js";
import { type ShardConfig, ShardConfigMismatchError } from "./errors.js";
import { MAX_SHARD_COUNT, SHARD_HASH } from "./shard-function.js";

/** The store key of a cluster's recorded shard function. */
export function shardConfigKey(cluster: string): string {
  return `${cluster}.shard-function`;
}

/**
 * `value` as a {@link ShardConfig}; throws `ConfigurationError` naming `key` when it is not one (a record
 * written by something else, or by another format): the cluster cannot tell how it shards.
 */
export function recordedShardConfig(key: string, value: unknown): ShardConfig {
  const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const { shardCount, hash } = record;
  if (
    typeof hash !== "string" ||
    typeof shardCount !== "number" ||
    !Number.isInteger(shardCount) ||
    shardCount < 1 ||
    shardCount > MAX_SHARD_COUNT
  ) {
    throw new ConfigurationError(
      `the recorded shard function ${JSON.stringify(key)} is not {shardCount, hash} with a shardCount from 1 to ` +
        `${MAX_SHARD_COUNT}: ${String(JSON.stringify(value)).slice(0, 200)}; refusing to start (with every process of the cluster stopped, \`eventsourced cluster forget-shard-function\` removes the record)`,
      key,
      "ClusterStore",
    );
  }
  return { shardCount, hash };
}

/**
 * Checks this process's shard function (`shardCount`, hash) against the one recorded for `cluster`:
 * rejects with `ShardConfigMismatchError` when it differs, `ConfigurationError` naming the key when the
 * recorded one is malformed. A node (`record`) records its own when none is; a client only reads (a gateway
 * started before the nodes must not fix the cluster's shard count), and resolves to false while nothing is
 * recorded, true once it checked against a record. A store without `shardConfig` is recorded into by
 * clients too.
 */
export async function checkShardConfig(
  store: ClusterStore,
  cluster: string,
  shardCount: number,
  record: boolean,
): Promise<boolean> {
  const configured = { shardCount, hash: SHARD_HASH };
  const found =
    record || store.shardConfig === undefined
      ? await store.recordShardConfig(cluster, configured)
      : await store.shardConfig(cluster);
  if (found === undefined) return false;
  const recorded = recordedShardConfig(shardConfigKey(cluster), found);
  if (recorded.shardCount !== configured.shardCount || recorded.hash !== configured.hash) {
    throw new ShardConfigMismatchError(cluster, recorded, configured);
  }
  return true;
}
