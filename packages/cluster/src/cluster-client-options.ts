import type { CmdResult, DuplicateResult } from "@eventsourced/core";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ClusterStore } from "./cluster-store.js";
import type { ClusterCodec } from "./codec.js";
import type { RoutedReply } from "./envelope.js";
import type { RetryOptions } from "./routing-options.js";
import type { ClusterTransport } from "./transport.js";

/** Options of one routed command. */
export interface SendOptions {
  /**
   * Identifies the command across retries (1 to 256 characters): every attempt carries it as the
   * entity's idempotency key, so the command is applied at most once however often it is retried, also
   * by the caller after a `ClusterRoutingError` with `outcomeUnknown`. Default: a random UUID per `send`
   * (safe for the retries of this call; give your own to retry across calls).
   */
  readonly commandId?: string | undefined;
  /** The whole budget of this command, retries included, in milliseconds; default `retry.defaultTimeoutMs`. */
  readonly timeoutMs?: number | undefined;
}

/** A command's outcome as the owner computed it (before encoding), or why it was not handled there. */
export type LocalOutcome =
  | { readonly kind: "result"; readonly result: CmdResult<unknown, unknown> | DuplicateResult }
  | Exclude<RoutedReply, { kind: "result" }>;

/** Handles a command in this process when it owns the entity's shard; `undefined` when it does not. */
export type LocalHandler = (
  shard: number,
  id: string,
  commandId: string,
  cmd: unknown,
  timeoutMs: number,
) => Promise<LocalOutcome> | undefined;

/** Options of a {@link ClusterClient}. */
export interface ClusterClientOptions {
  /** The entity type the client sends to (its `typeName`). */
  readonly typeName: string;
  /** The cluster's name; default `"default"`. */
  readonly cluster?: string | undefined;
  /**
   * The cluster's shard count; default 256. Must be the recorded one: `start()` (or the first `send`)
   * checks it against the cluster's store and refuses with `ShardConfigMismatchError`.
   */
  readonly shardCount?: number | undefined;
  /** The NATS connection to route over (unless `transport` is given); it stays the caller's. */
  readonly nats?: NatsConnection | undefined;
  /**
   * Where the cluster's shard function is recorded (give the nodes' store); default a `NatsClusterStore`
   * on `nats`. With neither (a `transport` alone), the client cannot check its shard count: the owners
   * still refuse a misrouted id (`RemoteCommandError` with `remoteCode` `SHARD_CONFIG_MISMATCH`).
   */
  readonly store?: ClusterStore | undefined;
  /** Default `NatsTransport` on `nats`. */
  readonly transport?: ClusterTransport | undefined;
  /** NATS subject prefix; default `"eventsourced.cluster"`. */
  readonly subjectPrefix?: string | undefined;
  /** How commands and results travel; default JSON. */
  readonly codec?: ClusterCodec | undefined;
  /** How `send` retries. */
  readonly retry?: RetryOptions | undefined;
  /**
   * In-process handling for the shards the same process owns (used by `ClusterNode`).
   * @internal
   */
  readonly local?: LocalHandler | undefined;
  /**
   * The shard function was checked already (by the `ClusterNode` owning this client).
   * @internal
   */
  readonly shardConfigChecked?: boolean | undefined;
}
