import { ConfigurationError } from "@eventsourced/core";
import {
  closeTimeoutOption,
  NAME_PATTERN,
  type NatsConnectOptions,
} from "@eventsourced/evtlog-nats/internal";
import type { NatsConnection } from "@nats-io/transport-node";

/** Options of `NatsSnapshotStore.create`. */
export interface NatsSnapshotStoreOptions extends Omit<NatsConnectOptions, "name"> {
  /** An existing connection to use. It stays open when the store closes. */
  readonly connection?: NatsConnection | undefined;
  /** KV bucket name (letters, digits, `_`, `-`); default `"eventsourced-snapshots"`. Created when missing. */
  readonly bucket?: string | undefined;
  /** Storage of a bucket we create; default `"file"`. */
  readonly storage?: "file" | "memory" | undefined;
  /** Replicas of a bucket we create; default 1. */
  readonly replicas?: number | undefined;
  /**
   * Largest message of a bucket we create (state + 9 bytes of value header + about 128 bytes of message
   * headers); default: the server's max payload.
   */
  readonly maxValueSize?: number | undefined;
  /**
   * Snapshots kept per entity (the bucket's history, at most 64); default 1. An existing bucket that
   * keeps fewer is raised to this; one that keeps more is left as it is. Retention with
   * `keepSnapshots: K` needs at least K.
   */
  readonly history?: number | undefined;
  /**
   * How long `close()` waits for the drain of a connection the store opened; default 5,000 ms. Then the
   * connection is closed at once: a server that is away (or a partition) cannot keep a stopping process from
   * exiting.
   */
  readonly closeTimeoutMs?: number | undefined;
}

/** NATS KV keeps at most this many revisions per key. */
const MAX_HISTORY = 64;

/**
 * Validates `options` (throws `ConfigurationError` naming the option); returns the bucket, history and close
 * timeout.
 */
export function checkOptions(options: NatsSnapshotStoreOptions): {
  bucket: string;
  history: number;
  closeTimeoutMs: number;
} {
  const bucket = options.bucket ?? "eventsourced-snapshots";
  if (!NAME_PATTERN.test(bucket)) {
    throw new ConfigurationError(
      `invalid bucket name ${JSON.stringify(bucket)}: use letters, digits, "_" and "-"`,
      "bucket",
      "options",
    );
  }
  if (
    options.maxValueSize !== undefined &&
    !(Number.isInteger(options.maxValueSize) && options.maxValueSize > 0)
  ) {
    throw new ConfigurationError(`invalid maxValueSize ${options.maxValueSize}`, "maxValueSize", "options");
  }
  if (options.replicas !== undefined && !(Number.isInteger(options.replicas) && options.replicas >= 1)) {
    throw new ConfigurationError(
      `invalid replicas ${options.replicas}: a positive integer`,
      "replicas",
      "options",
    );
  }
  if (options.storage !== undefined && options.storage !== "file" && options.storage !== "memory") {
    throw new ConfigurationError(
      `invalid storage ${JSON.stringify(options.storage)}: "file" or "memory"`,
      "storage",
      "options",
    );
  }
  const history = options.history ?? 1;
  if (!(Number.isInteger(history) && history >= 1 && history <= MAX_HISTORY)) {
    throw new ConfigurationError(
      `invalid history ${history}: an integer from 1 to ${MAX_HISTORY}`,
      "history",
      "options",
    );
  }
  return { bucket, history, closeTimeoutMs: closeTimeoutOption(options.closeTimeoutMs, "options") };
}
