import { ConfigurationError } from "@eventsourced/core";
import { jetstream } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { validateTtlMs } from "../lease-key.js";
import type { NatsLeaseStoreOptions } from "./nats-lease-store.js";
import { requireServerVersion } from "./server-version.js";

const SOURCE = "NatsLeaseStoreOptions";
/** Where delete-marker TTLs (and per-key TTLs) arrived. */
const MARKER_TTL_SINCE: readonly [number, number, number] = [2, 11, 0];

/** The validated bucket settings of a store. */
export interface LeaseBucketOptions {
  readonly name: string;
  readonly ttlMs: number;
  readonly replicas: number;
  readonly markerTtlMs: number | undefined;
  readonly timeoutMs: number;
}

/** Validates the store's options (`ConfigurationError` naming the key) and fills in defaults. */
export function resolveBucketOptions(options: NatsLeaseStoreOptions): LeaseBucketOptions {
  const ttlMs = options.ttlMs ?? 5_000;
  validateTtlMs(ttlMs, SOURCE);
  const name = options.bucket ?? `eventsourced-leases-${ttlMs}ms`;
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new ConfigurationError(
      `invalid bucket name ${JSON.stringify(name)}: use letters, digits, "_" and "-"`,
      "bucket",
      SOURCE,
    );
  }
  const { markerTtlMs, replicas = 1 } = options;
  if (markerTtlMs !== undefined && !(Number.isInteger(markerTtlMs) && markerTtlMs >= 1_000)) {
    throw new ConfigurationError(
      `invalid markerTtlMs ${markerTtlMs}: an integer >= 1000`,
      "markerTtlMs",
      SOURCE,
    );
  }
  if (!(Number.isInteger(replicas) && replicas >= 1 && replicas <= 5)) {
    throw new ConfigurationError(`invalid replicas ${replicas}: 1 to 5`, "replicas", SOURCE);
  }
  // A reply later than half the TTL is of little use to a renewal.
  const timeoutMs = options.timeoutMs ?? Math.min(5_000, Math.max(1_000, Math.floor(ttlMs / 2)));
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new ConfigurationError(`invalid timeoutMs ${timeoutMs}`, "timeoutMs", SOURCE);
  }
  return { name, ttlMs, replicas, markerTtlMs, timeoutMs };
}

/**
 * Opens the bucket, creating it when missing, after refusing settings the server would silently ignore,
 * then reads its stored settings back and refuses a bucket that cannot hold these leases.
 */
export async function openLeaseBucket(nc: NatsConnection, bucket: LeaseBucketOptions): Promise<KV> {
  if (bucket.markerTtlMs !== undefined) {
    requireServerVersion(nc.info?.version, MARKER_TTL_SINCE, "markerTtlMs", SOURCE);
  }
  const kv = await new Kvm(jetstream(nc, { timeout: bucket.timeoutMs })).create(bucket.name, {
    history: 1,
    ttl: bucket.ttlMs,
    storage: "file",
    replicas: bucket.replicas,
    ...(bucket.markerTtlMs === undefined ? {} : { markerTTL: bucket.markerTtlMs }),
    description: `eventsourced leases, TTL ${bucket.ttlMs} ms`,
  });
  await checkBucket(kv, bucket);
  return kv;
}

/**
 * Refuses a bucket whose stored settings differ from what the store needs: an existing bucket keeps its
 * own settings, and a server may drop settings it does not know without an error.
 */
async function checkBucket(kv: KV, bucket: LeaseBucketOptions): Promise<void> {
  const status = await kv.status();
  const problems: string[] = [];
  if (status.ttl !== bucket.ttlMs)
    problems.push(`its TTL (max_age) is ${status.ttl} ms, not ${bucket.ttlMs} ms`);
  if (status.history !== 1) problems.push(`it keeps ${status.history} revisions per key, not 1`);
  if (status.streamInfo.config.storage !== "file") {
    // Memory storage restarts its sequences with the server, and epochs with them.
    problems.push(`its storage is ${status.streamInfo.config.storage}, not file`);
  }
  if (bucket.markerTtlMs !== undefined && status.markerTTL !== bucket.markerTtlMs) {
    problems.push(`its delete-marker TTL is ${status.markerTTL} ms, not ${bucket.markerTtlMs} ms`);
  }
  if (problems.length > 0) {
    throw new ConfigurationError(
      `KV bucket ${JSON.stringify(bucket.name)} cannot hold these leases: ${problems.join("; ")}` +
        " (a bucket serves one TTL: use another bucket name, or the default, which names the TTL)",
      "bucket",
      SOURCE,
    );
  }
}
