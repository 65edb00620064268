/** Shards of the counter cluster. */
export const CLUSTER_SHARDS = 64;

/** Shard lease TTL of the counter cluster, in milliseconds: a killed process's shards move after about this. */
export const CLUSTER_TTL_MS = 3_000;

/** How often a waiting process polls for an expired lease (the takeover bound is TTL + poll + a little). */
export const CLUSTER_POLL_MS = 250;
