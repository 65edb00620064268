import { silentLogger } from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import type { LeaseGrant } from "@eventsourced/leases";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../../evtlog-nats/test/support/nats-test-env.js";
import { decodeLeaseValue, encodeLeaseValue } from "../src/nats/lease-value.js";

const encoder = new TextEncoder();
const evt = (text: string) => ({ bytes: encoder.encode(text) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * ADR 0136: a lease bucket deleted and recreated (an operator cleaning up, the counter's `<stream>-counter-runs`
 * bucket, a cluster's lease bucket) restarts its KV revisions at 1. Epochs that were revisions then fell
 * below the epoch markers already in the event stream, and every later fenced write was refused.
 */
describe("NatsLeaseStore epochs across a deleted and recreated bucket", () => {
  let nc: NatsConnection;
  let log: NatsEvtLog;
  const stream = uniqueName("recreated_markers");
  const buckets: string[] = [];
  const bucketName = () => {
    const name = uniqueName("leases_recreated");
    buckets.push(name);
    return name;
  };

  beforeAll(async () => {
    nc = await connectTestNats();
    log = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name: stream, subjectPrefix: stream },
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await log?.close();
    await deleteStream(nc, stream);
    for (const bucket of buckets) await deleteStream(nc, `KV_${bucket}`);
    await nc?.close();
  });

  /** Acquires `key`, then renews it a few times: later tenures of a fresh bucket start at low revisions. */
  async function acquireAndRenew(store: NatsLeaseStore, key: string, owner: string): Promise<LeaseGrant> {
    let grant = await store.tryAcquire(key, owner);
    if (grant === undefined) throw new Error(`${key} is taken`);
    for (let i = 0; i < 5; i++) grant = (await store.renew(grant)) ?? grant;
    return grant;
  }

  /** A new tenure of `key`, waiting (polling) while an entry of it is still live. */
  async function acquire(store: NatsLeaseStore, key: string, owner: string): Promise<LeaseGrant> {
    for (let i = 0; i < 400; i++) {
      const grant = await store.tryAcquire(key, owner);
      if (grant !== undefined) return grant;
      await sleep(25);
    }
    throw new Error(`${key} was never acquired`);
  }

  it("grants a store opened on the recreated bucket an epoch above every earlier tenure's: fenced writes go on", async () => {
    const bucket = bucketName();
    const type = uniqueTypeName();
    const first = await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 1_000 });
    await acquireAndRenew(first, "run", "run-1");
    const before = await acquireAndRenew(first, "run.2", "run-1");
    await log.fenced({ epoch: before.epoch, owner: "run-1" }).persist(type, "c1", 0, [evt("one")]);
    await first.close();
    await deleteStream(nc, `KV_${bucket}`);

    const second = await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 1_000 });
    try {
      const after = await acquire(second, "run.2", "run-2");
      expect(after.epoch).toBeGreaterThan(before.epoch);
      expect(await second.holder("run.2")).toEqual({ key: "run.2", owner: "run-2", epoch: after.epoch });
      const persisted = await log
        .fenced({ epoch: after.epoch, owner: "run-2" })
        .persist(type, "c1", 1, [evt("two")]);
      expect(persisted.seqNo).toBe(2);
      // Renewals keep the epoch; the next tenure's is greater still.
      const renewed = (await second.renew(after))!;
      expect(renewed.epoch).toBe(after.epoch);
      expect(await second.release(renewed)).toBe(true);
      expect((await acquire(second, "run.2", "run-3")).epoch).toBeGreaterThan(after.epoch);
    } finally {
      await second.close();
    }
  });

  it("notices in a store kept open that another process recreated the bucket, and grants epochs above the old ones", async () => {
    const bucket = bucketName();
    const type = uniqueTypeName();
    const running = await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 1_000 });
    try {
      await acquireAndRenew(running, "shard.a", "node-1");
      const before = await acquireAndRenew(running, "shard.b", "node-1");
      await log.fenced({ epoch: before.epoch, owner: "node-1" }).persist(type, "e", 0, [evt("one")]);
      await deleteStream(nc, `KV_${bucket}`);
      await (await NatsLeaseStore.create({ connection: nc, bucket, ttlMs: 1_000 })).close();

      // The old tenure went with the bucket: no renewal, and the next acquire is a new, greater epoch.
      expect(await running.renew(before)).toBeUndefined();
      const after = await acquire(running, "shard.b", "node-2");
      expect(after.epoch).toBeGreaterThan(before.epoch);
      expect(await running.holder("shard.b")).toMatchObject({ owner: "node-2", epoch: after.epoch });
      const persisted = await log
        .fenced({ epoch: after.epoch, owner: "node-2" })
        .persist(type, "e", 1, [evt("two")]);
      expect(persisted.seqNo).toBe(2);
    } finally {
      await running.close();
    }
  });

  it("reads the epoch of values of every form: acquired with a base, renewed, and written before epoch bases", () => {
    const base = 1_750_000_000_000_000;
    expect(decodeLeaseValue(encodeLeaseValue({ owner: "A", base }), 7)).toEqual({
      owner: "A",
      epoch: base + 7,
    });
    expect(decodeLeaseValue(encodeLeaseValue({ owner: "A", epoch: base + 7 }), 9)).toEqual({
      owner: "A",
      epoch: base + 7,
    });
    expect(decodeLeaseValue(encodeLeaseValue({ owner: "A" }), 7)).toEqual({ owner: "A", epoch: 7 });
    expect(
      decodeLeaseValue(encoder.encode(JSON.stringify({ owner: "A", base: 2 ** 53 })), 7),
    ).toBeUndefined();
    expect(decodeLeaseValue(encoder.encode(JSON.stringify({ owner: "A", base: "1" })), 7)).toBeUndefined();
  });
});
