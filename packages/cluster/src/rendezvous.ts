import { fnv1a32 } from "./shard-function.js";

/** murmur3's 32-bit finalizer: spreads FNV's weak low bits, so close member names get unrelated weights. */
function fmix32(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Rendezvous (highest random weight) hashing: the member with the highest weight for `(type, shard)`
 * owns it. Every process computes the same answer from the same member list, and a member joining or
 * leaving moves only the shards it wins or held (about 1/n of them). Ties go to the smaller name.
 */
export function rendezvousOwner(members: readonly string[], type: string, shard: number): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const member of members) {
    const weight = fmix32(fnv1a32(`${member}\n${type}\n${shard}`));
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && member < best)) {
      best = member;
      bestWeight = weight;
    }
  }
  return best;
}
