import { isEventSourcedError } from "@eventsourced/core";
import type { LeaseGrant } from "@eventsourced/leases";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CuttingProxy } from "../../evtlog-nats/test/support/cutting-proxy.js";
import { NatsServerProcess } from "../../evtlog-nats/test/support/nats-server-process.js";

// A lease write whose connection is lost before its answer fails at once with an outcome-unknown
// `LeaseStoreError` instead of waiting out its request timeout (here a minute, longer than the test may
// take), and is not retried blindly: the next renewal finds out whether the lost one landed and renews the
// same tenure either way. The store talks to a private server through a proxy that swallows answers and
// cuts the connection.
describe("a NATS lease write whose connection is lost before the answer", () => {
  let server: NatsServerProcess;
  let proxy: CuttingProxy;
  let store: NatsLeaseStore;

  beforeAll(async () => {
    server = await NatsServerProcess.start(["-js"]);
    proxy = new CuttingProxy(server.port);
    store = await NatsLeaseStore.create({
      servers: await proxy.listen(),
      bucket: "lost",
      ttlMs: 30_000,
      timeoutMs: 60_000,
    });
  });
  afterAll(async () => {
    await store?.close().catch(() => {});
    proxy?.close();
    await server?.stop();
  });

  async function renewAgain(grant: LeaseGrant): Promise<LeaseGrant | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await store.renew(grant);
      } catch (err) {
        if (!isEventSourcedError(err, "LEASE_STORE_FAILED") || attempt === 50) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  for (const drop of ["toClient", "toServer"] as const) {
    it(`a renewal fails with an outcome-unknown LeaseStoreError and the next one renews the tenure (${drop})`, async () => {
      const key = `renew-${drop}`;
      const grant = (await store.tryAcquire(key, "A"))!;
      const lost = await proxy
        .cutWhileWaiting(drop, () => store.renew(grant))
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(isEventSourcedError(lost, "LEASE_STORE_FAILED")).toBe(true);
      expect((lost as Error).cause).toMatchObject({ code: "NATS_REQUEST_LOST" });
      // Whether or not the lost update landed, the tenure is renewed (never taken as lost or won unchecked).
      // As the keeper does, renew again after a failure: one sent before nats.js has reconnected is lost too.
      const renewed = await renewAgain(grant);
      expect(renewed).toMatchObject({ key, owner: "A", epoch: grant.epoch });
      expect(await store.holder(key)).toEqual({ key, owner: "A", epoch: grant.epoch });
    }, 30_000);
  }

  it("a holder read is read again on the new connection", async () => {
    const grant = (await store.tryAcquire("read", "B"))!;
    expect(await proxy.cutWhileWaiting("toClient", () => store.holder("read"))).toEqual({
      key: "read",
      owner: "B",
      epoch: grant.epoch,
    });
  }, 30_000);
});
