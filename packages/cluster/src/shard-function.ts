import { InvalidArgumentError } from "@eventsourced/core";

/** The default number of shards of a cluster. */
export const DEFAULT_SHARD_COUNT = 256;

/** The largest shard count (shards are leased and subscribed one by one, so keep it modest). */
export const MAX_SHARD_COUNT = 65_536;

/**
 * The name of the shard function, recorded with the shard count once per cluster: FNV-1a, 32 bits, over
 * the UTF-8 bytes of the entity id, modulo the shard count. A process computing shards differently would
 * route ids to owners that do not own them, so a mismatch refuses to start (`ShardConfigMismatchError`).
 */
export const SHARD_HASH = "fnv1a32-utf8";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a (32 bits) of the UTF-8 encoding of `text`, without allocating: the same value as hashing
 * `new TextEncoder().encode(text)` byte by byte (a lone surrogate counts as U+FFFD, as there).
 * Stable across processes, platforms and releases: the shard of an id depends on nothing else.
 * @example
 * fnv1a32("foobar"); // 0xbf9cf968
 */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        i++;
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
        continue;
      }
      c = 0xfffd;
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
  }
  return h >>> 0;
}

/**
 * The shard of an entity id: `fnv1a32(id) % shardCount` (see {@link SHARD_HASH}).
 * @example
 * shardOf("c-1", 256); // always the same shard, in every process
 */
export function shardOf(id: string, shardCount: number): number {
  return fnv1a32(id) % shardCount;
}

/** Throws `InvalidArgumentError` unless `shardCount` is an integer from 1 to {@link MAX_SHARD_COUNT}. */
export function validateShardCount(shardCount: number): void {
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARD_COUNT) {
    throw new InvalidArgumentError(
      `shardCount must be an integer from 1 to ${MAX_SHARD_COUNT}, got ${String(shardCount)}`,
    );
  }
}
