import type { LeaseGrant } from "@eventsourced/leases";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import type { NatsConnection, Payload, RequestOptions } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats, deleteStream, uniqueName } from "../../evtlog-nats/test/support/nats-test-env.js";

/**
 * `nc` with a hook run once, before the next request to `subject` is sent: the interleaving of another
 * process's requests at one point of this one's, on a real server (the shared one, a unique bucket).
 */
function withHookBefore(nc: NatsConnection, subject: string) {
  let hook: (() => Promise<void>) | undefined;
  const connection = new Proxy(nc, {
    get(target, prop) {
      if (prop === "request") {
        return async (s: string, payload?: Payload, options?: RequestOptions) => {
          const run = s === subject ? hook : undefined;
          if (run !== undefined) {
            hook = undefined;
            await run();
          }
          return target.request(s, payload, options);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { connection, before: (run: () => Promise<void>) => (hook = run) };
}

// ADR 0149: after an acquiring write, the store reads the bucket's epoch base again; when the bucket was
// recreated meanwhile it took its write back with a delete conditional on the write's revision alone. The
// write may have gone to the old bucket, and revisions restart at 1 in the new one: another process's lease
// at the same revision of the same key in the new bucket was deleted, and both held the key.
describe("NatsLeaseStore taking back an acquire made across a recreated bucket", () => {
  let nc: NatsConnection;
  const bucket = uniqueName("leases_take_back");

  beforeAll(async () => {
    nc = await connectTestNats();
  });
  afterAll(async () => {
    await deleteStream(nc, `KV_${bucket}`);
    await nc?.close();
  });

  it("leaves another process's lease at the same revision in the new bucket alone", async () => {
    const hooked = withHookBefore(nc, `$JS.API.STREAM.INFO.KV_${bucket}`);
    const first = await NatsLeaseStore.create({ connection: hooked.connection, bucket, ttlMs: 30_000 });
    let second: NatsLeaseStore | undefined;
    try {
      // Revisions 1 and 2 in the old bucket; this acquire of "k" lands at revision 3.
      await first.tryAcquire("x.1", "node-1");
      await first.tryAcquire("x.2", "node-1");
      let other: LeaseGrant | undefined;
      // Before the first store reads the base again: another process deletes and recreates the bucket and
      // acquires "k" there at revision 3 as well.
      hooked.before(async () => {
        await deleteStream(nc, `KV_${bucket}`);
        second = await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 30_000 });
        await second.tryAcquire("y.1", "node-2");
        await second.tryAcquire("y.2", "node-2");
        other = await second.tryAcquire("k", "node-2");
      });
      const grant = await first.tryAcquire("k", "node-1");
      expect(other).toMatchObject({ owner: "node-2", revision: 3 });
      // The key is node-2's: node-1's write went with the old bucket.
      expect(grant).toBeUndefined();
      expect(await first.holder("k")).toEqual({ key: "k", owner: "node-2", epoch: other!.epoch });
      expect(await second!.renew(other!)).toMatchObject({ owner: "node-2", epoch: other!.epoch });
    } finally {
      await first.close();
      await second?.close();
    }
  });
});
