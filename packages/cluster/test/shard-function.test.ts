import { fnv1a32, rendezvousOwner, SHARD_HASH, shardOf } from "@eventsourced/cluster";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planRebalance } from "../src/rebalance.js";

function reference(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

describe("The shard function", () => {
  it("is FNV-1a 32 over UTF-8 with the published test vectors", () => {
    expect(SHARD_HASH).toBe("fnv1a32-utf8");
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("hashes the UTF-8 bytes of any string, lone surrogates as U+FFFD like TextEncoder", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => fnv1a32(s) === reference(s)));
    for (const s of ["é", "€", "😀", "\ud800", "a\udc00b", "日本語"]) expect(fnv1a32(s)).toBe(reference(s));
  });

  it("gives the same shard in every release: pinned values", () => {
    expect([shardOf("c-1", 256), shardOf("cart/42", 256), shardOf("ü", 64), shardOf("c-1", 7)]).toEqual([
      fnv1a32("c-1") % 256,
      fnv1a32("cart/42") % 256,
      fnv1a32("ü") % 64,
      fnv1a32("c-1") % 7,
    ]);
    expect(fnv1a32("c-1")).toBe(reference("c-1"));
    expect(shardOf("c-1", 256)).toBe(reference("c-1") % 256);
  });

  it("spreads ids evenly over the shards", () => {
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) counts[shardOf(`entity-${i}`, 64)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1_200);
  });
});

describe("Rendezvous assignment", () => {
  it("moves only the shards of a member that leaves", () => {
    const before = ["a", "b", "c"];
    const after = ["a", "c"];
    for (let shard = 0; shard < 256; shard++) {
      const owner = rendezvousOwner(before, "t", shard);
      if (owner !== "b") expect(rendezvousOwner(after, "t", shard)).toBe(owner);
    }
  });

  it("does not depend on the order of the member list and spreads shards", () => {
    const counts = new Map<string, number>();
    for (let shard = 0; shard < 256; shard++) {
      const owner = rendezvousOwner(["n1", "n2", "n3"], "t", shard)!;
      expect(rendezvousOwner(["n3", "n1", "n2"], "t", shard)).toBe(owner);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const n of counts.values()) expect(n).toBeGreaterThan(50);
  });

  it("a round releases at most maxMoveFraction of the shards across the cluster and acquires only its own", () => {
    const all = new Set(Array.from({ length: 256 }, (_, s) => s));
    // A node holding everything when a second member joins: it gives up at most ceil(256 x 0.1 / 2) per round.
    const plan = planRebalance("a", ["a", "b"], "t", 256, all, 0.1);
    expect(plan.release).toHaveLength(13);
    expect(plan.acquire).toEqual([]);
    for (const shard of plan.release) expect(rendezvousOwner(["a", "b"], "t", shard)).toBe("b");
    // The newcomer holds nothing and wants exactly the shards rendezvous hashing gives it.
    const wanted = planRebalance("b", ["a", "b"], "t", 256, new Set(), 0.1).acquire;
    expect(wanted).toEqual([...all].filter((shard) => rendezvousOwner(["a", "b"], "t", shard) === "b"));
    // A node missing from the list (its heartbeat is late) still counts itself.
    expect(planRebalance("c", ["a"], "t", 256, new Set(), 0.1).acquire.length).toBeGreaterThan(0);
  });
});
