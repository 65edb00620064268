import type { ContractSubject } from "@eventsourced/core/testing/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LeaseGrant, LeaseStore } from "../../lease-store.js";

/** Keys every store must refuse with `InvalidArgumentError`. */
export const HOSTILE_LEASE_KEYS: readonly string[] = [
  "",
  ".",
  "a..b",
  ".a",
  "a.",
  "a b",
  "*",
  ">",
  "a.*",
  "a.>",
  "a/b",
  "é",
  "'; drop table x; --",
  "a\u0000b",
  "new\nline",
  "$KV",
  "x".repeat(256),
];

/** Keys every store must accept and keep apart. */
export const EDGE_LEASE_KEYS: readonly string[] = [
  "a",
  "A",
  "a.b",
  "a-b",
  "a_b",
  "a=2Eb",
  "0",
  "x".repeat(255),
];

let counter = 0;
/** A key no other test uses. */
function uniqueKey(label: string): string {
  counter += 1;
  return `contract.${label}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}${counter}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tries `tryAcquire` every 25 ms until it succeeds; fails the test after `boundMs`. */
async function acquireOnceFree(
  store: LeaseStore,
  key: string,
  owner: string,
  boundMs: number,
): Promise<LeaseGrant> {
  const start = performance.now();
  for (;;) {
    const grant = await store.tryAcquire(key, owner);
    if (grant !== undefined) return grant;
    if (performance.now() - start > boundMs) throw new Error(`${key} was not free after ${boundMs} ms`);
    await sleep(25);
  }
}

/** Waits until the store no longer reports a holder for `key`. */
async function expired(store: LeaseStore, key: string, boundMs: number): Promise<void> {
  const start = performance.now();
  while ((await store.holder(key)) !== undefined) {
    if (performance.now() - start > boundMs) throw new Error(`${key} still held after ${boundMs} ms`);
    await sleep(25);
  }
}

const invalidArgument = expect.objectContaining({ code: "INVALID_ARGUMENT" });

/**
 * The LeaseStore contract as a vitest suite; every adapter runs it unchanged. The store should have a TTL
 * of 1 to 2 s: a few tests wait for one expiry. Timing assertions are orderings against the store's own
 * expiry (measured from `grant.sentAt`), never tight durations, so they hold on a loaded machine.
 * @example
 * describeLeaseStoreContract("in memory", async () => ({ subject: new InMemoryLeaseStore({ ttlMs: 1_000 }) }));
 */
export function describeLeaseStoreContract(
  name: string,
  factory: () => Promise<ContractSubject<LeaseStore>>,
): void {
  describe(`LeaseStore contract: ${name}`, () => {
    let store: LeaseStore;
    let cleanup: (() => Promise<void>) | undefined;
    /** Generous liveness bound for an expiry: never a timing assertion. */
    let bound: number;

    beforeAll(async () => {
      const made = await factory();
      store = made.subject;
      cleanup = made.cleanup;
      bound = store.ttlMs + 15_000;
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it("grants a free key to its first acquirer and reports it as the holder", async () => {
      const key = uniqueKey("free");
      const grant = await store.tryAcquire(key, "A");
      expect(grant).toMatchObject({ key, owner: "A", ttlMs: store.ttlMs });
      expect(grant!.epoch).toBeGreaterThan(0);
      expect(typeof grant!.sentAt).toBe("bigint");
      expect(await store.holder(key)).toEqual({ key, owner: "A", epoch: grant!.epoch });
    });

    it("refuses a held key to everyone else and to its holder", async () => {
      const key = uniqueKey("held");
      const grant = await store.tryAcquire(key, "A");
      expect(await store.tryAcquire(key, "B")).toBeUndefined();
      expect(await store.tryAcquire(key, "A")).toBeUndefined();
      expect((await store.holder(key))?.epoch).toBe(grant!.epoch);
    });

    it("lets exactly one of many racing acquirers win", async () => {
      const key = uniqueKey("race");
      const grants = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.tryAcquire(key, `owner-${i}`)),
      );
      const winners = grants.filter((g) => g !== undefined);
      expect(winners).toHaveLength(1);
      expect((await store.holder(key))?.owner).toBe(winners[0]!.owner);
    });

    it("keeps keys apart", async () => {
      const keys = EDGE_LEASE_KEYS.map((k) => `${uniqueKey("edge")}.${k}`.slice(0, 255));
      const grants = await Promise.all(keys.map((k, i) => store.tryAcquire(k, `owner-${i}`)));
      expect(grants.every((g) => g !== undefined)).toBe(true);
      for (const [i, k] of keys.entries()) expect((await store.holder(k))?.owner).toBe(`owner-${i}`);
      for (const k of EDGE_LEASE_KEYS) expect(await store.holder(k).then(() => "ok")).toBe("ok");
    });

    it("renews a live lease under the same epoch, with a later send time", async () => {
      const key = uniqueKey("renew");
      const grant = (await store.tryAcquire(key, "A"))!;
      const renewed = await store.renew(grant);
      expect(renewed).toMatchObject({ key, owner: "A", epoch: grant.epoch });
      expect(renewed!.sentAt).toBeGreaterThan(grant.sentAt);
      expect(await store.renew(renewed!)).toMatchObject({ epoch: grant.epoch });
      expect((await store.holder(key))?.epoch).toBe(grant.epoch);
    });

    it("expires a lease on the store's clock: never sooner than the TTL after it was sent, then anyone may acquire it", async () => {
      const key = uniqueKey("expiry");
      const a = (await store.tryAcquire(key, "A"))!;
      const b = await acquireOnceFree(store, key, "B", bound);
      const repliedAt = process.hrtime.bigint();
      // The store stamped A's expiry at A's arrival, which is after A's send: B's success (whose reply
      // came after B's arrival) cannot precede A.sentAt + TTL. 5 ms allow for clock granularity.
      expect(Number(repliedAt - a.sentAt) / 1e6).toBeGreaterThanOrEqual(store.ttlMs - 5);
      expect(b.owner).toBe("B");
    });

    it("gives every takeover a greater epoch", async () => {
      const key = uniqueKey("takeover");
      const a = (await store.tryAcquire(key, "A"))!;
      const b = await acquireOnceFree(store, key, "B", bound);
      expect(b.epoch).toBeGreaterThan(a.epoch);
      expect(await store.holder(key)).toEqual({ key, owner: "B", epoch: b.epoch });
    });

    it("never renews or releases a lease that was taken over (stale epoch)", async () => {
      const key = uniqueKey("stale");
      const a = (await store.tryAcquire(key, "A"))!;
      const b = await acquireOnceFree(store, key, "B", bound);
      expect(await store.renew(a)).toBeUndefined();
      expect(await store.release(a)).toBe(false);
      // Same owner, old epoch: still refused (owners are incarnations, epochs tell tenures apart).
      const again = await acquireOnceFree(store, uniqueKey("stale-same-owner"), "A", bound);
      expect(await store.renew({ ...again, epoch: again.epoch - 1 })).toBeUndefined();
      expect(await store.holder(key)).toEqual({ key, owner: "B", epoch: b.epoch });
      expect(await store.renew(b)).toMatchObject({ owner: "B", epoch: b.epoch });
    });

    it("never renews an expired lease, even when nobody took it: only a new acquisition, with a new epoch", async () => {
      const key = uniqueKey("expired");
      const a = (await store.tryAcquire(key, "A"))!;
      await expired(store, key, bound);
      expect(await store.renew(a)).toBeUndefined();
      expect(await store.release(a)).toBe(false);
      const again = (await store.tryAcquire(key, "A"))!;
      expect(again.epoch).toBeGreaterThan(a.epoch);
    });

    it("frees a released key at once, and the next tenure gets a greater epoch", async () => {
      const key = uniqueKey("release");
      const a = (await store.tryAcquire(key, "A"))!;
      const renewed = (await store.renew(a))!;
      expect(await store.release(renewed)).toBe(true);
      expect(await store.holder(key)).toBeUndefined();
      expect(await store.renew(renewed)).toBeUndefined();
      const b = (await store.tryAcquire(key, "B"))!;
      expect(b.epoch).toBeGreaterThan(a.epoch);
      expect(await store.release(renewed)).toBe(false);
      expect((await store.holder(key))?.owner).toBe("B");
    });

    it("ignores a release by anyone but the holder", async () => {
      const key = uniqueKey("nonholder");
      const a = (await store.tryAcquire(key, "A"))!;
      expect(await store.release({ ...a, owner: "B" })).toBe(false);
      expect(await store.release({ ...a, epoch: a.epoch + 1 })).toBe(false);
      expect(await store.renew({ ...a, owner: "B" })).toBeUndefined();
      expect(await store.holder(key)).toEqual({ key, owner: "A", epoch: a.epoch });
      expect(await store.renew(a)).toMatchObject({ epoch: a.epoch });
    });

    it("renews many leases at once, refusing each one that is not live, in the order given", async () => {
      const [k1, k2, k3, k4] = ["one", "two", "three", "four"].map((label) => uniqueKey(label));
      const a1 = (await store.tryAcquire(k1!, "A"))!;
      const a2 = (await store.tryAcquire(k2!, "A"))!;
      const a3 = (await store.tryAcquire(k3!, "A"))!;
      await store.release(a3);
      const b4 = (await store.tryAcquire(k4!, "B"))!;
      const results = await store.renewMany([a2, { ...b4, owner: "A" }, a1, a3]);
      expect(results.map((r) => r?.key)).toEqual([k2, undefined, k1, undefined]);
      expect(results[0]).toMatchObject({ owner: "A", epoch: a2.epoch });
      expect(results[2]).toMatchObject({ owner: "A", epoch: a1.epoch });
      expect(await store.renewMany([])).toEqual([]);
      expect((await store.holder(k4!))?.owner).toBe("B");
    });

    it("refuses a batch that names a key twice", async () => {
      const key = uniqueKey("twice");
      const a = (await store.tryAcquire(key, "A"))!;
      await expect(store.renewMany([a, a])).rejects.toEqual(invalidArgument);
    });

    it("refuses hostile keys with InvalidArgumentError in every operation", async () => {
      const grant = (await store.tryAcquire(uniqueKey("template"), "A"))!;
      for (const key of HOSTILE_LEASE_KEYS) {
        await expect(store.tryAcquire(key, "A"), JSON.stringify(key)).rejects.toEqual(invalidArgument);
        await expect(store.holder(key), JSON.stringify(key)).rejects.toEqual(invalidArgument);
        await expect(store.renew({ ...grant, key }), JSON.stringify(key)).rejects.toEqual(invalidArgument);
        await expect(store.renewMany([{ ...grant, key }]), JSON.stringify(key)).rejects.toEqual(
          invalidArgument,
        );
        await expect(store.release({ ...grant, key }), JSON.stringify(key)).rejects.toEqual(invalidArgument);
      }
      expect(await store.renew(grant)).toMatchObject({ epoch: grant.epoch });
    });

    it("refuses hostile owners with InvalidArgumentError", async () => {
      for (const owner of ["", "a\u0000b", "\ud800", "o".repeat(256)]) {
        await expect(store.tryAcquire(uniqueKey("owner"), owner), JSON.stringify(owner)).rejects.toEqual(
          invalidArgument,
        );
      }
      const odd = "ünïcødé owner 'quoted' \"double\" {json}";
      const key = uniqueKey("odd-owner");
      const grant = (await store.tryAcquire(key, odd))!;
      expect(await store.holder(key)).toEqual({ key, owner: odd, epoch: grant.epoch });
      expect(await store.renew(grant)).toMatchObject({ owner: odd });
    });
  });
}
