import { isEventSourcedError } from "@eventsourced/core";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { describeLeaseStoreContract } from "@eventsourced/leases/testing/vitest";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../../evtlog-nats/test/support/nats-test-env.js";
import { parseServerVersion, requireServerVersion } from "../src/nats/server-version.js";

describeLeaseStoreContract("NatsLeaseStore", async () => {
  const bucket = uniqueName("leases_contract");
  const store = await NatsLeaseStore.create({ servers: NATS_URL, bucket, ttlMs: 1_000 });
  return {
    subject: store,
    cleanup: async () => {
      await store.close();
      const nc = await connectTestNats();
      await deleteStream(nc, `KV_${bucket}`);
      await nc.close();
    },
  };
});

describe("NatsLeaseStore", () => {
  let nc: NatsConnection;
  const buckets: string[] = [];
  const bucketName = (prefix: string) => {
    const name = uniqueName(prefix);
    buckets.push(name);
    return name;
  };

  beforeAll(async () => {
    nc = await connectTestNats();
  });
  afterAll(async () => {
    for (const bucket of buckets) await deleteStream(nc, `KV_${bucket}`);
    await nc?.close();
  });

  it("keeps leases in a file-backed bucket whose max_age is the TTL, named after it by default", async () => {
    const store = await NatsLeaseStore.create({ connection: nc, ttlMs: 4_321 });
    buckets.push(store.bucket);
    expect(store.bucket).toBe("eventsourced-leases-4321ms");
    const status = await (await new Kvm(nc).open(store.bucket)).status();
    expect([status.ttl, status.history, status.streamInfo.config.storage]).toEqual([4_321, 1, "file"]);
    await store.close();
    expect(nc.isClosed()).toBe(false);
  });

  it("refuses to open a bucket whose TTL differs from the store's", async () => {
    const bucket = bucketName("leases_ttl");
    await (await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 1_000 })).close();
    const err = await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 2_000 }).catch(
      (e: unknown) => e,
    );
    expect(isEventSourcedError(err, "CONFIGURATION_INVALID")).toBe(true);
    expect((err as Error).message).toContain("TTL (max_age) is 1000 ms, not 2000 ms");
  });

  it("refuses a bucket that keeps history or lives in memory", async () => {
    const bucket = bucketName("leases_mem");
    await new Kvm(nc).create(bucket, { history: 3, ttl: 1_000, storage: "memory" });
    const err = await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 1_000 }).catch(
      (e: unknown) => e,
    );
    expect(isEventSourcedError(err, "CONFIGURATION_INVALID")).toBe(true);
    expect((err as Error).message).toMatch(/3 revisions per key.*storage is memory/);
  });

  it("refuses delete-marker TTLs on a server older than 2.11, which would silently ignore them", async () => {
    const bucket = bucketName("leases_marker");
    const err = await NatsLeaseStore.create({
      connection: nc,
      bucket,
      ttlMs: 1_000,
      markerTtlMs: 5_000,
    }).catch((e: unknown) => e);
    expect(parseServerVersion(nc.info?.version)?.slice(0, 2)).toEqual([2, 9]);
    expect(isEventSourcedError(err, "CONFIGURATION_INVALID")).toBe(true);
    expect((err as Error).message).toContain(`this server runs ${nc.info?.version}`);
    // Nothing was created.
    await expect(new Kvm(nc).open(bucket).then((kv) => kv.status())).rejects.toThrow();
  });

  it("compares server versions by number, not by text", () => {
    const allowed = (version: string) => {
      try {
        requireServerVersion(version, [2, 11, 0], "markerTtlMs", "test");
        return true;
      } catch {
        return false;
      }
    };
    expect(["2.9.10", "2.10.22", "1.99.99", "", "garbage"].map(allowed)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(["2.11.0", "2.11.0-RC.1", "2.12.1", "3.0.0", "v2.11.3"].map(allowed)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  it("uses the bucket's epoch base plus the revision of the acquiring write as the epoch and stores owner and epoch as JSON", async () => {
    const bucket = bucketName("leases_value");
    const store = await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 5_000 });
    const kv = await new Kvm(nc).open(bucket);
    // The base is the bucket stream's creation time on the server, in microseconds (ADR 0136).
    const created = (await kv.status()).streamInfo.created;
    const base =
      Date.parse(created) * 1_000 + Number(`${/\.(\d+)/.exec(created)?.[1] ?? ""}000000`.slice(3, 6));
    const grant = (await store.tryAcquire("shard.counter.3", "A"))!;
    let entry = await kv.get("shard.counter.3");
    expect([entry?.revision, entry?.json()]).toEqual([grant.revision, { owner: "A", base }]);
    expect(grant.epoch).toBe(base + grant.revision);
    const renewed = (await store.renew(grant))!;
    entry = await kv.get("shard.counter.3");
    expect([entry?.revision, entry?.json()]).toEqual([renewed.revision, { owner: "A", epoch: grant.epoch }]);
    expect(renewed.revision).toBeGreaterThan(grant.revision);
    await store.close();
  });

  it("renews and releases its own tenure even after a renewal whose reply was lost", async () => {
    const bucket = bucketName("leases_lost_reply");
    const store = await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 5_000 });
    const kv = await new Kvm(nc).open(bucket);
    const grant = (await store.tryAcquire("k", "A"))!;
    // As if a renewal landed but its reply never came back: the grant still names the old revision.
    await kv.update("k", JSON.stringify({ owner: "A", epoch: grant.epoch }), grant.revision);
    const renewed = await store.renew(grant);
    expect(renewed).toMatchObject({ owner: "A", epoch: grant.epoch });
    await kv.update("k", JSON.stringify({ owner: "A", epoch: grant.epoch }), renewed!.revision);
    expect(await store.release(renewed!)).toBe(true);
    expect(await store.holder("k")).toBeUndefined();
    await store.close();
  });

  it("wakes a waiting acquirer when the holder releases, long before its poll", async () => {
    const bucket = bucketName("leases_wake");
    const store = await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 60_000 });
    const grant = (await store.tryAcquire("k", "A"))!;
    const stop = new AbortController();
    const woken = store.waitForRelease("k", stop.signal).then(() => "released");
    const timeout = new Promise((resolve) => setTimeout(resolve, 15_000, "timed out"));
    // Give the bucket watch time to start before the release.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await store.release(grant);
    expect(await Promise.race([woken, timeout])).toBe("released");
    stop.abort();
    await store.close();
  });

  it("fails with ConnectionError naming the server, never the password, when it is unreachable", async () => {
    const err = await NatsLeaseStore.create({ servers: "nats://user:s3cret@127.0.0.1:1" }).catch(
      (e: unknown) => e,
    );
    expect(isEventSourcedError(err, "CONNECTION_FAILED")).toBe(true);
    expect((err as Error).message).toContain("127.0.0.1:1");
    expect((err as Error).message).not.toContain("s3cret");
  });
});
