import { ConnectionError, ErrorCode, InvalidArgumentError, isEventSourcedError } from "@eventsourced/core";
import { HOSTILE_IDS, uniqueTypeName } from "@eventsourced/core/testing";
import { describeSnapshotStoreContract } from "@eventsourced/core/testing/vitest";
import { NatsSnapshotStore, SnapshotTooLargeError, snapshotKey } from "@eventsourced/snapshots/nats";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

async function connectTestNats(): Promise<NatsConnection> {
  try {
    return await connect({ servers: NATS_URL });
  } catch (err) {
    throw new Error(
      `NATS with JetStream is not reachable at ${NATS_URL}; start it with: start-stop-daemon --start --oknodo ` +
        "--background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server " +
        "-l /var/log/nats-server.log (or set NATS_URL)",
      { cause: err },
    );
  }
}

const uniqueBucket = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

async function deleteBucket(nc: NatsConnection, bucket: string): Promise<void> {
  const kv = await new Kvm(nc).open(bucket);
  await kv.destroy().catch(() => {});
}

const INVALID_SNAPSHOTS = [
  { seqNo: -1, bytes: new Uint8Array() },
  { seqNo: 1.5, bytes: new Uint8Array() },
  { seqNo: Number.NaN, bytes: new Uint8Array() },
  { seqNo: 9, bytes: "not bytes" as unknown as Uint8Array },
];

describeSnapshotStoreContract("NatsSnapshotStore", async ({ history }) => {
  const nc = await connectTestNats();
  const bucket = uniqueBucket("snap-contract");
  const store = await NatsSnapshotStore.create({ servers: NATS_URL, bucket, storage: "memory", history });
  return {
    subject: store,
    cleanup: async () => {
      await store.close();
      await deleteBucket(nc, bucket);
      await nc.close();
    },
  };
});

describe("NatsSnapshotStore", () => {
  let nc: NatsConnection;
  const bucket = uniqueBucket("snap");
  let store: NatsSnapshotStore;

  beforeAll(async () => {
    nc = await connectTestNats();
    store = await NatsSnapshotStore.create({
      connection: nc,
      bucket,
      storage: "memory",
      maxValueSize: 4_096,
    });
  });
  afterAll(async () => {
    await store?.close();
    await deleteBucket(nc, bucket);
    await nc.close();
  });

  it("reads values in the format 1 of the previous release (no version), and writes it for snapshots without one", async () => {
    const type = uniqueTypeName();
    const kv = await new Kvm(nc).open(bucket);
    // Format 1, byte by byte: format 1, seqNo 300 as a big-endian uint64, then the state.
    const old = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 1, 44, 7, 8]);
    await kv.put(snapshotKey(type, "old"), old);
    const loaded = await store.load(type, "old");
    expect([loaded?.seqNo, Array.from(loaded!.bytes), loaded?.version]).toEqual([300, [7, 8], undefined]);
    await store.save(type, "plain", { seqNo: 300, bytes: new Uint8Array([7, 8]) });
    expect(Array.from((await kv.get(snapshotKey(type, "plain")))!.value)).toEqual(Array.from(old));
    await store.save(type, "versioned", { seqNo: 1, bytes: new Uint8Array([5]), version: "é2" });
    expect(Array.from((await kv.get(snapshotKey(type, "versioned")))!.value)).toEqual([
      2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3, 0xc3, 0xa9, 0x32, 5,
    ]);
  });

  it("raises the history of an existing bucket that keeps fewer snapshots than asked for", async () => {
    const raised = uniqueBucket("snap-raise");
    const first = await NatsSnapshotStore.create({ connection: nc, bucket: raised, storage: "memory" });
    await first.save("t", "x", { seqNo: 1, bytes: new Uint8Array([1]) });
    await first.close();
    const second = await NatsSnapshotStore.create({
      connection: nc,
      bucket: raised,
      storage: "memory",
      history: 3,
    });
    expect((await (await new Kvm(nc).open(raised)).status()).history).toBe(3);
    await second.save("t", "x", { seqNo: 2, bytes: new Uint8Array([2]) });
    await second.save("t", "x", { seqNo: 3, bytes: new Uint8Array([3]) });
    expect((await second.loadAll("t", "x")).map((s) => s.seqNo)).toEqual([3, 2, 1]);
    await second.close();
    await deleteBucket(nc, raised);
  });

  it("keys snapshots by type and the encoded id, one safe KV key per hostile id", () => {
    expect(snapshotKey("counter", "a.b")).toBe("counter.a=2Eb");
    for (const id of HOSTILE_IDS) expect(snapshotKey("counter", id)).toMatch(/^counter\.[A-Za-z0-9_=-]+$/);
    expect(new Set(HOSTILE_IDS.map((id) => snapshotKey("t", id))).size).toBe(HOSTILE_IDS.length);
  });

  it("refuses a state larger than the bucket's max value size with SnapshotTooLargeError, keeping the old one", async () => {
    const type = uniqueTypeName();
    await store.save(type, "big", { seqNo: 1, bytes: new Uint8Array([1]) });
    const err = await store
      .save(type, "big", { seqNo: 2, bytes: new Uint8Array(store.maxStateBytes + 1) })
      .catch((e) => e);
    expect(err).toBeInstanceOf(SnapshotTooLargeError);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.code).toBe(ErrorCode.InvalidArgument);
    expect(err.message).toMatch(/more than the limit of 3968 bytes/);
    await store.save(type, "big", { seqNo: 3, bytes: new Uint8Array(store.maxStateBytes) });
    expect((await store.load(type, "big"))?.seqNo).toBe(3);
  });

  it("keeps the highest seqNo when two stores on separate connections race", async () => {
    const other = await NatsSnapshotStore.create({ servers: NATS_URL, bucket });
    const type = uniqueTypeName();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? store : other).save(type, "race", { seqNo: i + 1, bytes: new Uint8Array([i + 1]) }),
      ),
    );
    expect((await other.load(type, "race"))?.seqNo).toBe(20);
    await other.close();
  });

  it("refuses a snapshot with an invalid seqNo or bytes with InvalidArgumentError, keeping the stored one", async () => {
    const type = uniqueTypeName();
    await store.save(type, "s", { seqNo: 3, bytes: new Uint8Array([3]) });
    for (const snapshot of INVALID_SNAPSHOTS) {
      const err = await store.save(type, "s", snapshot).catch((e: unknown) => e);
      expect(isEventSourcedError(err, ErrorCode.InvalidArgument), String(snapshot.seqNo)).toBe(true);
    }
    expect((await store.load(type, "s"))?.seqNo).toBe(3);
  });

  it("treats a deleted key as absent and can save again after it", async () => {
    const type = uniqueTypeName();
    await store.save(type, "gone", { seqNo: 5, bytes: new Uint8Array([5]) });
    const kv = await new Kvm(nc).open(bucket);
    await kv.delete(snapshotKey(type, "gone"));
    expect(await store.load(type, "gone")).toBeUndefined();
    await store.save(type, "gone", { seqNo: 2, bytes: new Uint8Array([2]) });
    expect((await store.load(type, "gone"))?.seqNo).toBe(2);
  });

  it("rejects invalid options with ConfigurationError naming the key, before connecting", async () => {
    const unreachable = "nats://127.0.0.1:1";
    for (const [options, key] of [
      [{ bucket: "a.b" }, "bucket"],
      [{ maxValueSize: 0 }, "maxValueSize"],
      [{ replicas: Number.NaN }, "replicas"],
      [{ storage: "disk" as "file" }, "storage"],
    ] as const) {
      await expect(NatsSnapshotStore.create({ servers: unreachable, ...options })).rejects.toMatchObject({
        code: ErrorCode.Configuration,
        key,
      });
    }
  });

  it("reports an unreachable server as ConnectionError without credentials", async () => {
    const err = await NatsSnapshotStore.create({ servers: "nats://u:topsecret@127.0.0.1:1" }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toContain("127.0.0.1:1");
    expect(err.message).not.toContain("topsecret");
  });
});
