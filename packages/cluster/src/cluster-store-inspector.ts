import type { ShardConfig } from "./errors.js";

/** A cluster's recorded shard function as an operator sees it: what is stored, and whether it is usable. */
export interface RecordedShardFunction {
  /** The record as stored: the parsed JSON value on NATS, `{shardCount, hash}` of the row on PostgreSQL. */
  readonly value: unknown;
  /** The record as a shard function; undefined when it is malformed (then `problem` says why). */
  readonly config: ShardConfig | undefined;
  readonly problem?: string | undefined;
}

/** A member whose last heartbeat has not expired. */
export interface LiveMember {
  /** The entity type it serves. */
  readonly type: string;
  readonly member: string;
}

/**
 * What an operator's tool (the `eventsourced cluster` commands) needs of a cluster store. Opening one
 * creates nothing: a store whose buckets or tables do not exist has no record and no members.
 */
export interface ClusterStoreInspector {
  /** Where it reads, safe to print (no credentials). */
  readonly where: string;
  /** The recorded shard function of `cluster`, or undefined when none is recorded. */
  shardFunction(cluster: string): Promise<RecordedShardFunction | undefined>;
  /** The live members of `cluster`, of every entity type, sorted by type, then member. */
  liveMembers(cluster: string): Promise<LiveMember[]>;
  /**
   * Removes the recorded shard function of `cluster`, so that the next process to start records its own;
   * resolves to whether there was one. Only safe with every process of the cluster stopped: a running one
   * keeps computing shards its way. The caller checks `liveMembers` first.
   */
  forgetShardFunction(cluster: string): Promise<boolean>;
}

/** Sorts members by type, then member. */
export function byTypeThenMember(a: LiveMember, b: LiveMember): number {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  return a.member < b.member ? -1 : a.member > b.member ? 1 : 0;
}
