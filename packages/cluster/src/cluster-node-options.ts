import type { EvtLog, Logger, RegistryOptions } from "@eventsourced/core";
import type { LeaseKeeperOptions, LeaseLogEntry, LeaseStore } from "@eventsourced/leases";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ClusterStore } from "./cluster-store.js";
import type { ClusterCodec } from "./codec.js";
import type { RetryOptions } from "./routing-options.js";
import type { ShardAcquired, ShardEnded } from "./shard-events.js";
import type { ClusterTransport } from "./transport.js";

/** One tenure of a shard, as handed to {@link ClusterNodeOptions.fenceLog}. */
export interface ShardTenure {
  readonly type: string;
  readonly shard: number;
  /** The lease key (`cluster.<cluster>.<type>.<shard>`). */
  readonly key: string;
  readonly owner: string;
  /** The fencing token: greater than that of every earlier tenure of this shard. */
  readonly epoch: number;
  /** True while the tenure's local deadline has not passed (and it was not released). */
  isValid(): boolean;
}

/** Options of a {@link ClusterNode} (one entity type). */
export interface ClusterNodeOptions<S, E> {
  /** The cluster's name (1 to 64 of `A-Z a-z 0-9 _ -`); default `"default"`. */
  readonly cluster?: string | undefined;
  /** The NATS connection for routing and (unless `store` is given) membership; it stays the caller's. */
  readonly nats?: NatsConnection | undefined;
  /** Where shard leases live (`NatsLeaseStore` or `PostgresLeaseStore`); its TTL is the shards' TTL. */
  readonly leaseStore: LeaseStore;
  /**
   * The entity registry's options (the log, passivation, snapshots, ...). `canHost` and `evtLogFor` are
   * the cluster's. `idempotency` defaults to `{}` so the window of command ids survives recovery from a
   * snapshot on the next owner.
   */
  readonly registry: Omit<RegistryOptions<S, E>, "canHost" | "evtLogFor">;
  /** Shards of the cluster (recorded by the first process, checked by every other); default 256. */
  readonly shardCount?: number | undefined;
  /** This node's id (1 to 100 of `A-Z a-z 0-9 _ -`), unique per process incarnation; default host-pid-random. */
  readonly nodeId?: string | undefined;
  /** Do not acquire any shard before this many members are alive (a cold start); default 1. */
  readonly minMembers?: number | undefined;
  /** How often ownership is rebalanced (and expired leases noticed); default 1,000 ms. */
  readonly rebalanceEveryMs?: number | undefined;
  /** At most this fraction of the shards moves (is released for another member) per round; default 0.1. */
  readonly maxMoveFraction?: number | undefined;
  /** Commands handled at once by this node; more get `Overloaded` (the sender backs off). Default 1,000. */
  readonly maxInFlight?: number | undefined;
  /**
   * How long a graceful handover waits for a shard's entities to finish their commands and stop (an entity
   * can be stuck, e.g. retrying a log that is down); default 5,000 ms. After it, the node has stopped
   * serving the shard already; with strict fencing (the log fences each tenure, see `fenceLog`) it
   * releases the shard's lease without waiting more, as the log refuses a late write once the next owner
   * holds it. Without strict fencing a late write could commit under the next owner, so the lease is kept
   * (renewed) until the entities stop, and `stop()` waits for them, logging an error every period.
   */
  readonly handoverTimeoutMs?: number | undefined;
  /**
   * How long `stop()` waits, in all, for the steps that need the servers: leaving the member list, handing
   * every shard over (its entities, then its lease's release), stopping the transport's subscriptions,
   * closing the registry and the lease keeper. Past it `stop()` resolves: what is still under way goes on
   * in the background, a lease not released expires with its TTL (the keeper no longer renews it), a member
   * not removed expires with the member TTL. A service stopping during an outage thus exits in bounded
   * time. Without strict fencing (see `handoverTimeoutMs`) the handover is still waited for in full, since
   * a stuck entity's late write could commit under the next owner; the other steps are bounded. Nothing acknowledged is lost; a command still in flight ends with the log's typed error when the
   * log is closed. Default `handoverTimeoutMs` + 5,000 ms. The default `NatsTransport` drains a subscription
   * for at most 5,000 ms or this, whichever is less.
   */
  readonly stopTimeoutMs?: number | undefined;
  /** How `send` retries. */
  readonly retry?: RetryOptions | undefined;
  /** How commands and results travel; default JSON. */
  readonly codec?: ClusterCodec | undefined;
  /** Default `NatsTransport` on `nats`. */
  readonly transport?: ClusterTransport | undefined;
  /** Default `NatsClusterStore` on `nats` (5 s member TTL). */
  readonly store?: ClusterStore | undefined;
  /** NATS subject prefix; default `"eventsourced.cluster"`. */
  readonly subjectPrefix?: string | undefined;
  /** Lease timing (margin, renewal period, poll); see `LeaseKeeperOptions`. */
  readonly lease?: Pick<LeaseKeeperOptions, "marginMs" | "renewEveryMs" | "pollMs"> | undefined;
  /**
   * Wraps the log of each shard tenure before the cluster's own L1 fence: strict fencing (L2) checks
   * `tenure.epoch` inside the log's write. Called once per tenure. Default: the log's own strict fencing
   * when it has it (`PostgresEvtLog` created with `fencing: { leaseTable: leaseStore.table }`, and
   * `NatsEvtLog`, which writes an epoch marker per entity activated); `(log) => log` turns it off.
   */
  readonly fenceLog?: ((log: EvtLog, tenure: ShardTenure) => EvtLog) | undefined;
  /** A shard was acquired. */
  readonly onShardAcquired?: ((event: ShardAcquired) => void) | undefined;
  /** A shard was lost (deadline passed, renewal refused) or released. */
  readonly onShardEnded?: ((event: ShardEnded) => void) | undefined;
  /** Every acquisition, renewal and end of a shard lease (`validityIntervals` checks them). */
  readonly onOwnershipLog?: ((entry: LeaseLogEntry) => void) | undefined;
  /**
   * Signals on which the node hands its shards over (`stop()`); afterwards the signal is raised again
   * if nothing else listens to it, so the process ends as it would have. Default none.
   */
  readonly stopOnSignals?: readonly NodeJS.Signals[] | undefined;
  /** Default `consoleLogger`. */
  readonly logger?: Logger | undefined;
}
