import { InMemoryLeaseStore } from "@eventsourced/leases/testing";
import { describeLeaseStoreContract } from "@eventsourced/leases/testing/vitest";
import { describe, expect, it } from "vitest";

describeLeaseStoreContract("InMemoryLeaseStore", async () => ({
  subject: new InMemoryLeaseStore({ ttlMs: 1_000 }),
}));

describe("InMemoryLeaseStore with an injected clock", () => {
  it("expires leases when the injected clock passes the TTL, not before", async () => {
    let now = 0;
    const store = new InMemoryLeaseStore({ ttlMs: 1_000, now: () => now });
    const a = (await store.tryAcquire("k", "A"))!;
    now += 999;
    expect(await store.tryAcquire("k", "B")).toBeUndefined();
    now += 1;
    const b = await store.tryAcquire("k", "B");
    expect(b?.epoch).toBe(a.epoch + 1);
    expect(await store.renew(a)).toBeUndefined();
  });

  it("wakes a waiter when the key is released", async () => {
    const store = new InMemoryLeaseStore({ ttlMs: 60_000 });
    const a = (await store.tryAcquire("k", "A"))!;
    const woken = store.waitForRelease("k", new AbortController().signal);
    await store.release(a);
    await woken;
    expect(await store.tryAcquire("k", "B")).toBeDefined();
  });

  it("refuses a TTL outside 100 ms to one day", () => {
    for (const ttlMs of [0, 99, 1.5, 86_400_001, Number.NaN]) {
      expect(() => new InMemoryLeaseStore({ ttlMs }), String(ttlMs)).toThrow(
        expect.objectContaining({ code: "CONFIGURATION_INVALID" }),
      );
    }
  });
});
