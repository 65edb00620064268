import { EventSourcedError } from "@eventsourced/core";

/** The shard function of a cluster: how many shards, and which hash (see `SHARD_HASH`). */
export interface ShardConfig {
  readonly shardCount: number;
  readonly hash: string;
}

/**
 * This process computes shards differently from the one that first started the cluster: its shard count
 * or hash differs from the recorded ones. It refused to start (nothing was acquired or served), because
 * two shard functions in one cluster would let two processes own the same entity.
 */
export class ShardConfigMismatchError extends EventSourcedError {
  static override readonly code: string = "SHARD_CONFIG_MISMATCH";
  declare readonly code: "SHARD_CONFIG_MISMATCH";
  constructor(
    readonly cluster: string,
    readonly recorded: ShardConfig,
    readonly configured: ShardConfig,
  ) {
    super(
      "SHARD_CONFIG_MISMATCH",
      `cluster ${JSON.stringify(cluster)} was started with ${recorded.shardCount} shards hashed by ${recorded.hash}, ` +
        `but this process is configured with ${configured.shardCount} shards hashed by ${configured.hash}; ` +
        "it refuses to start (use the recorded values or a new cluster name; to reshard, stop every process of the " +
        `cluster, then \`eventsourced cluster forget-shard-function ${cluster}\`)`,
    );
  }
}

/**
 * The process that received the command does not own the entity's shard (any more): the command had no
 * effect. The routing client retries it at the current owner; callers see it only as the `cause` of a
 * {@link ClusterRoutingError}.
 */
export class NotOwnerError extends EventSourcedError {
  static override readonly code: string = "NOT_OWNER";
  declare readonly code: "NOT_OWNER";
  constructor(
    readonly type: string,
    readonly id: string,
    readonly shard: number,
    options?: { cause?: unknown },
  ) {
    super("NOT_OWNER", `${type}/${JSON.stringify(id)}: this process does not own shard ${shard}`, options);
  }
}

/**
 * The owner refused the command because it has too many commands in flight (`maxInFlight`): the command
 * had no effect. The routing client backs off and retries it.
 */
export class OverloadedError extends EventSourcedError {
  static override readonly code: string = "OVERLOADED";
  declare readonly code: "OVERLOADED";
  constructor(
    readonly type: string,
    readonly id: string,
    readonly inFlight: number,
  ) {
    super(
      "OVERLOADED",
      `${type}/${JSON.stringify(id)}: the owner is overloaded (${inFlight} commands in flight)`,
    );
  }
}

/** No process served the entity's shard when the command was sent (NATS "no responders"). */
export class NoOwnerError extends EventSourcedError {
  static override readonly code: string = "NO_OWNER";
  declare readonly code: "NO_OWNER";
  constructor(
    readonly type: string,
    readonly id: string,
    readonly shard: number,
  ) {
    super("NO_OWNER", `${type}/${JSON.stringify(id)}: no process serves shard ${shard} right now`);
  }
}

/**
 * A routed command could not be completed within its time budget (`timeoutMs`): every attempt ended with
 * a retryable outcome (`NotOwnerError`, `OverloadedError`, `NoOwnerError`, a lost reply, a failure the
 * owner reported as retryable); `cause` is the last one. When `outcomeUnknown` is true an attempt may have
 * been applied (its reply was lost): send again with the same `commandId`, which applies it at most once.
 */
export class ClusterRoutingError extends EventSourcedError {
  static override readonly code: string = "ROUTING_FAILED";
  declare readonly code: "ROUTING_FAILED";
  constructor(
    readonly type: string,
    readonly id: string,
    readonly commandId: string,
    readonly attempts: number,
    readonly outcomeUnknown: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      "ROUTING_FAILED",
      `${type}/${JSON.stringify(id)}: command ${JSON.stringify(commandId)} not completed after ${attempts} attempt(s)` +
        (outcomeUnknown
          ? " (it may have been applied: retry with the same commandId)"
          : " (it had no effect)") +
        (options?.cause instanceof Error ? `: ${options.cause.message}` : ""),
      options,
    );
  }
}

/**
 * The owner failed the command with an error that retrying cannot fix (the entity's `handleCmd` threw, an
 * event could not be encoded, ...). `remoteCode` is the owner's error code (an eventsourced code such as
 * `EVT_HANDLER_FAILED`, or `UNKNOWN`), `outcomeUnknown` whether the command may have been applied.
 */
export class RemoteCommandError extends EventSourcedError {
  static override readonly code: string = "REMOTE_COMMAND_FAILED";
  declare readonly code: "REMOTE_COMMAND_FAILED";
  constructor(
    readonly type: string,
    readonly id: string,
    readonly remoteCode: string,
    readonly remoteMessage: string,
    readonly outcomeUnknown: boolean,
  ) {
    super(
      "REMOTE_COMMAND_FAILED",
      `${type}/${JSON.stringify(id)}: the owner failed the command with ${remoteCode}: ${remoteMessage}`,
    );
  }
}

/** The cluster node was stopped (or is stopping): it routes and serves no more commands. */
export class ClusterStoppedError extends EventSourcedError {
  static override readonly code: string = "CLUSTER_STOPPED";
  declare readonly code: "CLUSTER_STOPPED";
  constructor(readonly type: string) {
    super("CLUSTER_STOPPED", `the cluster node for ${type} is stopped; the command had no effect`);
  }
}
