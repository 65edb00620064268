import { rendezvousOwner } from "./rendezvous.js";

/** What one rebalancing round should do on one node. */
export interface RebalancePlan {
  /** Shards this node holds that another member should own, at most the round's move limit. */
  readonly release: number[];
  /** Shards this node should own and does not hold. */
  readonly acquire: number[];
}

/**
 * One round of assignment by rendezvous hashing over the live members (this node included). Releases
 * are capped at `ceil(shardCount * maxMoveFraction / members)` per node, so at most about
 * `maxMoveFraction` of the shards move per round across the cluster.
 */
export function planRebalance(
  self: string,
  members: readonly string[],
  type: string,
  shardCount: number,
  held: ReadonlySet<number>,
  maxMoveFraction: number,
): RebalancePlan {
  const live = members.includes(self) ? members : [...members, self];
  const maxMoves = Math.max(1, Math.ceil((shardCount * maxMoveFraction) / live.length));
  const release: number[] = [];
  const acquire: number[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    const desired = rendezvousOwner(live, type, shard);
    if (desired === self) {
      if (!held.has(shard)) acquire.push(shard);
    } else if (held.has(shard) && release.length < maxMoves) {
      release.push(shard);
    }
  }
  return { release, acquire };
}
