// Cluster sharding for eventsourced (`@eventsourced/cluster`): every entity owned by one process.

// The node and the client
export {
  ClusterClient,
  type ClusterClientOptions,
  type LocalHandler,
  type LocalOutcome,
  type SendOptions,
} from "./cluster-client.js";
export { ClusterNode, type ClusterNodeState } from "./cluster-node.js";
export type { ClusterNodeOptions, ShardTenure } from "./cluster-node-options.js";
export type { ClusterStore } from "./cluster-store.js";
export type {
  ClusterStoreInspector,
  LiveMember,
  RecordedShardFunction,
} from "./cluster-store-inspector.js";
// Transport, membership, codec
export { type ClusterCodec, jsonCodec } from "./codec.js";
export type { RemoteFailure, RoutedReply } from "./envelope.js";
// Errors
export {
  ClusterRoutingError,
  ClusterStoppedError,
  NoOwnerError,
  NotOwnerError,
  OverloadedError,
  RemoteCommandError,
  type ShardConfig,
  ShardConfigMismatchError,
} from "./errors.js";
export { FencedEvtLog } from "./fenced-evt-log.js";
export { NatsClusterStore, type NatsClusterStoreOptions } from "./nats-cluster-store.js";
export { inspectNatsClusterStore } from "./nats-cluster-store-inspector.js";
export { NatsTransport, type NatsTransportOptions } from "./nats-transport.js";
export { rendezvousOwner } from "./rendezvous.js";
export {
  CLUSTER_NAME_PATTERN,
  NODE_ID_PATTERN,
  type RetryOptions,
  type Subjects,
} from "./routing-options.js";
export type { ShardAcquired, ShardEnded } from "./shard-events.js";
// Shards
export { DEFAULT_SHARD_COUNT, fnv1a32, MAX_SHARD_COUNT, SHARD_HASH, shardOf } from "./shard-function.js";
export type { ClusterTransport, ServedRequest, TransportReply, TransportSubscription } from "./transport.js";
