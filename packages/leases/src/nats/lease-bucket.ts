import { ConfigurationError } from "@eventsourced/core";
import { failLostRequests } from "@eventsourced/evtlog-nats/internal";
import { jetstream } from "@nats-io/jetstream";
import { type KV, Kvm, type KvStatus } from "@nats-io/kv";
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
export async function openLeaseBucket(
  nc: NatsConnection,
  bucket: LeaseBucketOptions,
): Promise<{ readonly kv: KV; readonly epochBase: number }> {
  if (bucket.markerTtlMs !== undefined) {
    requireServerVersion(nc.info?.version, MARKER_TTL_SINCE, "markerTtlMs", SOURCE);
  }
  // A request whose connection is lost fails at once (`RequestLostError`, outcome unknown for a write) and a
  // lost read is sent again on the new connection, instead of waiting out `timeoutMs` (ADR 0143).
  const js = jetstream(failLostRequests(nc), { timeout: bucket.timeoutMs });
  const kv = await new Kvm(js).create(bucket.name, {
    history: 1,
    ttl: bucket.ttlMs,
    storage: "file",
    replicas: bucket.replicas,
    ...(bucket.markerTtlMs === undefined ? {} : { markerTTL: bucket.markerTtlMs }),
    description: `eventsourced leases, TTL ${bucket.ttlMs} ms`,
  });
  const status = await kv.status();
  checkBucket(status, bucket);
  return { kv, epochBase: epochBaseOf(status) };
}

/**
 * The bucket's epoch base (ADR 0136): its stream's creation time on the server, in microseconds since
 * 1970. A lease's epoch is the base plus the revision of its acquiring write. A bucket deleted and
 * recreated later gets a base above every epoch of the old one as long as the old one averaged fewer than
 * a million writes a second (its revisions), and the server's clock did not step back.
 */
export function epochBaseOf(status: KvStatus): number {
  const created = status.streamInfo.created;
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(created ?? "");
  // Whole seconds by Date.parse (milliseconds), the fraction to the microsecond by hand (it has nanoseconds).
  const secondsMs = match === null ? Number.NaN : Date.parse(`${match[1]}${match[3]}`);
  const micros = Number(`${match?.[2] ?? ""}000000`.slice(0, 6));
  const base = secondsMs * 1_000 + micros;
  if (!Number.isSafeInteger(base) || base <= 0) {
    throw new Error(
      `the server reported no usable creation time for the bucket's stream (${JSON.stringify(created)})`,
    );
  }
  return base;
}

/** The epoch base of the bucket as it is now (see {@link epochBaseOf}): changes when it was recreated. */
export async function currentEpochBase(kv: KV): Promise<number> {
  return epochBaseOf(await kv.status());
}

/**
 * Refuses a bucket whose stored settings differ from what the store needs: an existing bucket keeps its
 * own settings, and a server may drop settings it does not know without an error.
 */
function checkBucket(status: KvStatus, bucket: LeaseBucketOptions): void {
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
