import type { ClusterStore } from "./cluster-store.js";
import { ShardConfigMismatchError } from "./errors.js";
import { SHARD_HASH } from "./shard-function.js";

/**
 * Records this process's shard function (`shardCount`, hash) for `cluster` unless one is recorded, and
 * rejects with `ShardConfigMismatchError` when the recorded one differs.
 */
export async function checkShardConfig(
  store: ClusterStore,
  cluster: string,
  shardCount: number,
): Promise<void> {
  const configured = { shardCount, hash: SHARD_HASH };
  const recorded = await store.recordShardConfig(cluster, configured);
  if (recorded.shardCount !== configured.shardCount || recorded.hash !== configured.hash) {
    throw new ShardConfigMismatchError(cluster, recorded, configured);
  }
}
