import { isEventSourcedError, silentLogger } from "@eventsourced/core";
import { LeaseKeeper } from "@eventsourced/leases";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { again } from "../../../test/support/again.js";
import { cutWhileWaiting } from "../../../test/support/fault-proxy.js";
import { ProxiedNats } from "../../../test/support/proxied-nats.js";

// A lease write whose connection is lost before its answer fails at once with an outcome-unknown
// `LeaseStoreError` instead of waiting out its request timeout (here a minute, longer than the test may
// take), and is not retried blindly: the next renewal finds out whether the lost one landed and renews the
// same tenure either way. An acquire that landed unanswered leaves an entry of its owner that nobody
// holds: the store's next acquire of the key by that owner takes it over instead of waiting out the TTL
// (ADR 0148). The store talks to a private server through a proxy that swallows answers and cuts the
// connection.
describe("a NATS lease write whose connection is lost before the answer", () => {
  let nats: ProxiedNats;
  let store: NatsLeaseStore;

  beforeAll(async () => {
    nats = await ProxiedNats.start();
    store = await NatsLeaseStore.create({
      servers: nats.servers,
      bucket: "lost",
      ttlMs: 30_000,
      timeoutMs: 60_000,
    });
  });
  afterAll(async () => {
    await store?.close().catch(() => {});
    await nats?.stop();
  });

  for (const drop of ["toClient", "toServer"] as const) {
    it(`a renewal fails with an outcome-unknown LeaseStoreError and the next one renews the tenure (${drop})`, async () => {
      const key = `renew-${drop}`;
      const grant = (await store.tryAcquire(key, "A"))!;
      const lost = await cutWhileWaiting(nats.proxy, drop, () => store.renew(grant)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isEventSourcedError(lost, "LEASE_STORE_FAILED")).toBe(true);
      expect((lost as Error).cause).toMatchObject({ code: "NATS_REQUEST_LOST" });
      // Whether or not the lost update landed, the tenure is renewed (never taken as lost or won unchecked).
      // As the keeper does, renew again after a failure: one sent before nats.js has reconnected is lost too.
      const renewed = await again("LEASE_STORE_FAILED", () => store.renew(grant));
      expect(renewed).toMatchObject({ key, owner: "A", epoch: grant.epoch });
      expect(await store.holder(key)).toEqual({ key, owner: "A", epoch: grant.epoch });
    }, 30_000);
  }

  it("a holder read is read again on the new connection", async () => {
    const grant = (await store.tryAcquire("read", "B"))!;
    expect(await cutWhileWaiting(nats.proxy, "toClient", () => store.holder("read"))).toEqual({
      key: "read",
      owner: "B",
      epoch: grant.epoch,
    });
  }, 30_000);

  async function lostAcquire(drop: "toClient" | "toServer", key: string, owner: string): Promise<void> {
    const lost = await cutWhileWaiting(nats.proxy, drop, () => store.tryAcquire(key, owner)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isEventSourcedError(lost, "LEASE_STORE_FAILED")).toBe(true);
    expect((lost as Error).cause).toMatchObject({ code: "NATS_REQUEST_LOST" });
  }

  it("an acquire that landed although its answer was lost: the next acquire by the same owner gets the key", async () => {
    await lostAcquire("toClient", "landed", "A");
    const orphan = await again("LEASE_STORE_FAILED", () => store.holder("landed"));
    expect(orphan).toMatchObject({ owner: "A" });
    const grant = await again("LEASE_STORE_FAILED", () => store.tryAcquire("landed", "A"));
    expect(grant).toMatchObject({ key: "landed", owner: "A" });
    expect(grant!.epoch).toBeGreaterThan(orphan!.epoch);
    expect(await store.holder("landed")).toEqual({ key: "landed", owner: "A", epoch: grant!.epoch });
    // It is a tenure like any other: renewed and released at its epoch, then acquired by someone else.
    const renewed = await store.renew(grant!);
    expect(renewed).toMatchObject({ owner: "A", epoch: grant!.epoch });
    expect(await store.release(renewed!)).toBe(true);
    expect(await store.tryAcquire("landed", "B")).toMatchObject({ owner: "B" });
  }, 30_000);

  it("an acquire that never reached the server: the next one acquires as usual", async () => {
    await lostAcquire("toServer", "unsent", "A");
    expect(await again("LEASE_STORE_FAILED", () => store.holder("unsent"))).toBeUndefined();
    const grant = await again("LEASE_STORE_FAILED", () => store.tryAcquire("unsent", "A"));
    expect(grant).toMatchObject({ key: "unsent", owner: "A" });
    expect(await store.holder("unsent")).toEqual({ key: "unsent", owner: "A", epoch: grant!.epoch });
  }, 30_000);

  it("never takes over another owner's lease after a lost acquire, nor one of its own it did not lose", async () => {
    const b = (await store.tryAcquire("other", "B"))!;
    await lostAcquire("toClient", "other", "A");
    expect(await again("LEASE_STORE_FAILED", () => store.tryAcquire("other", "A"))).toBeUndefined();
    expect(await store.holder("other")).toEqual({ key: "other", owner: "B", epoch: b.epoch });
    // Without a lost acquire of its own, an owner holding a key still gets nothing (the contract).
    const own = (await store.tryAcquire("own", "A"))!;
    expect(await store.tryAcquire("own", "A")).toBeUndefined();
    expect(await store.holder("own")).toEqual({ key: "own", owner: "A", epoch: own.epoch });
  }, 30_000);

  it("a keeper whose first acquire landed unanswered holds the key after its next attempt, not a TTL later", async () => {
    const keeper = new LeaseKeeper(store, { logger: silentLogger });
    try {
      // Liveness bound: the TTL is 30 s, the test's limit 20 s.
      const lease = await cutWhileWaiting(nats.proxy, "toClient", () => keeper.acquire("keeper"));
      expect(await store.holder("keeper")).toEqual({
        key: "keeper",
        owner: keeper.owner,
        epoch: lease.epoch,
      });
    } finally {
      await keeper.close();
    }
  }, 20_000);
});
