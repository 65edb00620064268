import type { ShardConfig } from "./errors.js";

/**
 * The cluster's shared state besides the shard leases: the shard function recorded by the first process,
 * and the live members of each entity type. `NatsClusterStore` keeps it in two NATS KV buckets; a
 * PostgreSQL-only deployment can keep it in two tables (a member row's expiry stamped with
 * `clock_timestamp()`), as the leases are.
 */
export interface ClusterStore {
  /** How long a heartbeat keeps a member alive, on the store server's clock. */
  readonly memberTtlMs: number;
  /** Records `config` for `cluster` unless one is recorded already; resolves to the recorded one. */
  recordShardConfig(cluster: string, config: ShardConfig): Promise<ShardConfig>;
  /**
   * The shard function recorded for `cluster`, undefined while none is. A `ClusterClient` reads it to check
   * its own without recording it (only nodes record); a store without this method makes the client record
   * its shard function like a node.
   */
  shardConfig?(cluster: string): Promise<ShardConfig | undefined>;
  /** Marks `member` alive for `memberTtlMs` more. */
  heartbeat(cluster: string, type: string, member: string): Promise<void>;
  /** The members whose last heartbeat has not expired, in any order. */
  members(cluster: string, type: string): Promise<string[]>;
  /** Removes `member` at once (a graceful stop), so nobody waits for its heartbeat to expire. */
  leave(cluster: string, type: string, member: string): Promise<void>;
}
