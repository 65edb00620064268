import { hostname } from "node:os";
import { ConfigurationError, InvalidArgumentError } from "@eventsourced/core";
import type { ClusterNodeOptions } from "./cluster-node-options.js";
import {
  CLUSTER_NAME_PATTERN,
  integerOption,
  methodsOption,
  NODE_ID_PATTERN,
  patternOption,
} from "./routing-options.js";
import { DEFAULT_SHARD_COUNT, validateShardCount } from "./shard-function.js";

/** A node's validated settings, defaults applied. */
export interface NodeSettings {
  readonly cluster: string;
  readonly nodeId: string;
  readonly shardCount: number;
  readonly minMembers: number;
  readonly rebalanceEveryMs: number;
  readonly maxMoveFraction: number;
  readonly maxInFlight: number;
  readonly handoverTimeoutMs: number;
  readonly stopTimeoutMs: number;
}

/** `<host>-<pid>-<random>`: unique per process incarnation, and a valid NATS KV key token. */
function defaultNodeId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9_-]/g, "_")
    .slice(0, 60);
  return `${host}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Validates a node's options; throws `ConfigurationError` (or `InvalidArgumentError`) naming the option. */
export function nodeSettings<S, E>(options: ClusterNodeOptions<S, E>): NodeSettings {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`ClusterNode options must be an object, got ${String(options)}`);
  }
  const shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
  validateShardCount(shardCount);
  const maxMoveFraction = options.maxMoveFraction ?? 0.1;
  if (!(maxMoveFraction > 0 && maxMoveFraction <= 1)) {
    throw new ConfigurationError(
      `maxMoveFraction must be > 0 and <= 1, got ${String(maxMoveFraction)}`,
      "maxMoveFraction",
      "ClusterOptions",
    );
  }
  methodsOption("transport", options.transport, ["request", "serve", "publish", "subscribe"]);
  methodsOption("codec", options.codec, ["encode", "decode"]);
  methodsOption("store", options.store, ["recordShardConfig", "heartbeat", "members", "leave"]);
  if ((options.transport === undefined || options.store === undefined) && options.nats === undefined) {
    throw new ConfigurationError("give `nats`, or both `transport` and `store`", "nats", "ClusterOptions");
  }
  if (options.leaseStore === undefined) {
    throw new ConfigurationError("leaseStore is required", "leaseStore", "ClusterOptions");
  }
  if (options.registry?.evtLog === undefined) {
    throw new ConfigurationError("registry.evtLog is required", "registry.evtLog", "ClusterOptions");
  }
  const handoverTimeoutMs = integerOption(
    "handoverTimeoutMs",
    options.handoverTimeoutMs ?? 5_000,
    1,
    600_000,
  );
  return {
    cluster: patternOption("cluster", options.cluster ?? "default", CLUSTER_NAME_PATTERN),
    nodeId: patternOption("nodeId", options.nodeId ?? defaultNodeId(), NODE_ID_PATTERN),
    shardCount,
    minMembers: integerOption("minMembers", options.minMembers ?? 1, 1, 10_000),
    rebalanceEveryMs: integerOption("rebalanceEveryMs", options.rebalanceEveryMs ?? 1_000, 10, 600_000),
    maxMoveFraction,
    maxInFlight: integerOption("maxInFlight", options.maxInFlight ?? 1_000, 1, 1_000_000),
    handoverTimeoutMs,
    stopTimeoutMs: integerOption(
      "stopTimeoutMs",
      options.stopTimeoutMs ?? handoverTimeoutMs + 5_000,
      1,
      2_147_483_647,
    ),
  };
}

/**
 * Calls `stop` on the first of `signals`; once stopped, raises the signal again if nothing else listens
 * to it, so the process ends as it would have. Returns a function removing the handlers.
 */
export function stopOnSignals(signals: readonly NodeJS.Signals[], stop: () => Promise<void>): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  const remove = (): void => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    handlers.clear();
  };
  for (const signal of signals) {
    const handler = (): void => {
      remove();
      void stop().finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return remove;
}
