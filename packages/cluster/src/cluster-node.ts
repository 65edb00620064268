import {
  type CmdOf,
  type CmdResult,
  type CmdSpec,
  consoleLogger,
  type DuplicateResult,
  EntityRegistry,
  type EventSourced,
  type EvtLog,
  InvalidArgumentError,
  type Logger,
  type RejectionOf,
  type ReplyOf,
} from "@eventsourced/core";
import { LeaseKeeper } from "@eventsourced/leases";
import { ClusterClient, type SendOptions } from "./cluster-client.js";
import type { ClusterNodeOptions } from "./cluster-node-options.js";
import type { ClusterStore } from "./cluster-store.js";
import { type ClusterCodec, jsonCodec } from "./codec.js";
import { FencedEvtLog } from "./fenced-evt-log.js";
import { NatsClusterStore } from "./nats-cluster-store.js";
import { NatsTransport } from "./nats-transport.js";
import { type NodeSettings, nodeSettings, stopOnSignals } from "./node-settings.js";
import { Rebalancer } from "./rebalancer.js";
import type { Subjects } from "./routing-options.js";
import { settledWithin } from "./settled-within.js";
import { checkShardConfig } from "./shard-config-check.js";
import { shardOf } from "./shard-function.js";
import { ShardTenures } from "./shard-tenures.js";
import { warnWithoutStrictFencing } from "./strict-fence.js";
import type { ClusterTransport } from "./transport.js";

/** Where a {@link ClusterNode} is in its life. */
export type ClusterNodeState = "new" | "starting" | "running" | "stopping" | "stopped";
const DEAD_LEASE = { key: "none", epoch: 0, isValid: () => false };

/**
 * One process's part of a cluster for one entity type: it owns some of the type's shards (one lease per
 * shard, renewed at TTL/3, valid locally until the renewal's send time + TTL - margin), hosts their
 * entities in an `EntityRegistry`, serves their commands over NATS, and routes `send` to whichever
 * process owns an entity. Ownership follows rendezvous hashing over the live members, moving at most
 * `maxMoveFraction` of the shards per round; `stop()` hands every shard over gracefully.
 *
 * Safety does not rest on the lease alone: an entity of a shard whose lease ended fails its writes with
 * `OwnershipLostError` and never re-runs a command on conflict (L1); `fenceLog` adds the log's own check
 * (L2); the per-entity seqNo check always holds (L0).
 * @example
 * const node = new ClusterNode(counter, { nats: nc, leaseStore, registry: { evtLog } });
 * await node.start();
 * await node.send("c-1", { type: "inc", by: 1 }, { commandId: "req-42" });
 * await node.stop(); // on SIGTERM: hands its shards over
 */
export class ClusterNode<S, E, P extends CmdSpec> {
  readonly typeName: string;
  readonly cluster: string;
  readonly nodeId: string;
  readonly shardCount: number;
  /** The registry of the entities of the shards this node owns. */
  readonly registry: EntityRegistry<S, E, P>;
  readonly #options: ClusterNodeOptions<S, E>;
  readonly #logger: Logger;
  readonly #keeper: LeaseKeeper;
  readonly #client: ClusterClient;
  readonly #transport: ClusterTransport;
  readonly #subjects: Subjects;
  readonly #codec: ClusterCodec;
  readonly #baseLog: EvtLog;
  readonly #deadLog: EvtLog;
  readonly #settings: NodeSettings;
  #rebalancer: Rebalancer | undefined;
  readonly #tenures: ShardTenures<S, E, P>;
  #removeSignals: () => void = () => {};
  #store: ClusterStore | undefined;
  #state: ClusterNodeState = "new";
  #hints: { stop(): Promise<void> } | undefined;
  #stopped: Promise<void> | undefined;

  /** Validates the options (`ConfigurationError` / `InvalidArgumentError`); `start()` joins the cluster. */
  constructor(definition: EventSourced<S, E, P>, options: ClusterNodeOptions<S, E>) {
    this.#options = options;
    const settings = nodeSettings(options);
    this.cluster = settings.cluster;
    this.nodeId = settings.nodeId;
    this.shardCount = settings.shardCount;
    this.#settings = settings;
    this.#logger = options.logger ?? consoleLogger;
    this.#transport =
      options.transport ??
      new NatsTransport(options.nats!, { drainTimeoutMs: Math.min(5_000, settings.stopTimeoutMs) });
    this.#store = options.store;
    this.#codec = options.codec ?? jsonCodec;
    this.#baseLog = options.registry.evtLog;
    if (options.fenceLog === undefined)
      warnWithoutStrictFencing(this.#baseLog, options.leaseStore, this.#logger);
    this.#deadLog = new FencedEvtLog(this.#baseLog, DEAD_LEASE, -1);
    this.registry = new EntityRegistry(definition, {
      idempotency: {},
      ...options.registry,
      canHost: (id) => this.#tenures.get(shardOf(id, this.shardCount))?.lease.isValid() === true,
      evtLogFor: (id) => this.#tenures.get(shardOf(id, this.shardCount))?.log ?? this.#deadLog,
    });
    this.typeName = this.registry.typeName;
    this.#keeper = new LeaseKeeper(options.leaseStore, {
      ...options.lease,
      owner: this.nodeId,
      logger: this.#logger,
      onLog: (entry) => this.#tenures.leaseLog(entry),
    });
    this.#client = new ClusterClient({
      typeName: this.typeName,
      cluster: this.cluster,
      shardCount: this.shardCount,
      transport: this.#transport,
      subjectPrefix: options.subjectPrefix,
      codec: this.#codec,
      retry: options.retry,
      shardConfigChecked: true,
      local: (shard, id, commandId, cmd, timeoutMs) =>
        this.#tenures.has(shard)
          ? this.#tenures.handle(shard, id, commandId, cmd, Math.max(1, timeoutMs))
          : undefined,
    });
    this.#subjects = this.#client.subjects;
    this.#tenures = new ShardTenures({
      typeName: this.typeName,
      shardCount: this.shardCount,
      maxInFlight: settings.maxInFlight,
      handoverTimeoutMs: settings.handoverTimeoutMs,
      options,
      baseLog: this.#baseLog,
      transport: this.#transport,
      subjects: this.#subjects,
      codec: this.#codec,
      logger: this.#logger,
      registry: () => this.registry,
      call: (callback) => this.#call(callback),
    });
  }

  /** The shards this node owns and serves now, ascending. */
  get shards(): number[] {
    return this.#tenures.validShards();
  }

  /** `new` until `start()`, then `starting`, `running`, `stopping`, `stopped`. */
  get state(): ClusterNodeState {
    return this.#state;
  }

  /**
   * Joins the cluster: checks the recorded shard function (rejects with `ShardConfigMismatchError` when it
   * differs, joining nothing), starts heartbeating, and runs the first rebalancing round (acquiring free
   * shards this node should own once `minMembers` are alive).
   */
  async start(): Promise<void> {
    if (this.#state !== "new") throw new InvalidArgumentError(`start() called on a ${this.#state} node`);
    this.#state = "starting";
    try {
      this.#store ??= await NatsClusterStore.create(this.#options.nats!);
      await checkShardConfig(this.#store, this.cluster, this.shardCount, true);
      await this.#store.heartbeat(this.cluster, this.typeName, this.nodeId);
    } catch (err) {
      this.#state = "stopped";
      this.#client.stop();
      await Promise.allSettled([this.registry.close(), this.#keeper.close()]);
      throw err;
    }
    const rebalancer = this.#makeRebalancer(this.#store);
    this.#hints = this.#transport.subscribe(this.#subjects.hint, () =>
      rebalancer.schedule(Math.random() * 20),
    );
    this.#state = "running";
    this.#removeSignals = stopOnSignals(this.#options.stopOnSignals ?? [], () => this.stop());
    await rebalancer.start();
  }

  /**
   * Routes `cmd` to the owner of entity `id` (this node or another) and resolves to the entity's result,
   * or to a `DuplicateResult` when an earlier attempt with the same `commandId` was applied. See
   * `ClusterClient.send` for the errors.
   */
  send<C extends CmdOf<P>>(
    id: string,
    cmd: C,
    options?: SendOptions,
  ): Promise<CmdResult<ReplyOf<P, C>, RejectionOf<P, C>> | DuplicateResult> {
    return this.#client.send(id, cmd, options) as Promise<
      CmdResult<ReplyOf<P, C>, RejectionOf<P, C>> | DuplicateResult
    >;
  }

  /**
   * Hands every shard over and leaves: stops accepting commands, lets those in flight finish, passivates
   * the entities, releases each shard's lease (so the next owner acquires it at once, without waiting for
   * the TTL) and tells the other members. Idempotent. With strict fencing, a shard whose entities are still
   * busy after `handoverTimeoutMs` is released anyway; without, its lease is kept until they stop.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    const deadline = Date.now() + this.#settings.stopTimeoutMs;
    const wasRunning = this.#state === "running";
    this.#state = "stopping";
    this.#client.stop();
    this.#removeSignals();
    // No shard may be acquired once the handover has begun: the round under way ends first.
    await this.#bounded("rebalancer", this.#rebalancer?.stop(), deadline);
    // Leaving only tells the others sooner (the member expires anyway): it does not delay the handover.
    const left = wasRunning
      ? this.#store?.leave(this.cluster, this.typeName, this.nodeId).catch((err: unknown) => {
          this.#logger.warn("cannot leave the cluster's member list; it expires", { error: String(err) });
        })
      : undefined;
    // Without strict fencing a stuck entity's late write could commit under the next owner: its shard's
    // lease is kept until it stops, and so is stop() (handoverTimeoutMs).
    const strict = this.#tenures.allStrict;
    const handover = this.#tenures.handOverAll();
    if (strict) await this.#bounded("handover", handover, deadline);
    else await handover;
    await this.#bounded("leave", left, deadline);
    await this.#bounded("hint subscription stop", this.#hints?.stop(), deadline);
    // A handover that gave up on a stuck entity does not wait for it here either.
    const registryClosed = this.registry.close();
    if (this.#tenures.abandoned === 0) await this.#bounded("registry close", registryClosed, deadline);
    else registryClosed.catch(() => {});
    // Stops renewing (and releases what it can) even when the time is up: an unreleased lease expires.
    await this.#bounded("lease keeper close", this.#keeper.close(), deadline);
    this.#state = "stopped";
  }

  /** Waits for `step` until `deadline` (`stopTimeoutMs`); a late one goes on unawaited and is logged. */
  async #bounded(step: string, work: Promise<unknown> | undefined, deadline: number): Promise<void> {
    if (work === undefined) return;
    if (await settledWithin(work, deadline - Date.now())) {
      await work.catch(() => {});
      return;
    }
    this.#logger.warn("ClusterNode.stop(): a step did not finish within stopTimeoutMs; not waiting for it", {
      step,
      stopTimeoutMs: this.#settings.stopTimeoutMs,
    });
  }

  #makeRebalancer(store: ClusterStore): Rebalancer {
    this.#rebalancer = new Rebalancer({
      cluster: this.cluster,
      typeName: this.typeName,
      nodeId: this.nodeId,
      shardCount: this.shardCount,
      minMembers: this.#settings.minMembers,
      maxMoveFraction: this.#settings.maxMoveFraction,
      everyMs: this.#settings.rebalanceEveryMs,
      store,
      keeper: this.#keeper,
      logger: this.#logger,
      running: () => this.#state === "running",
      held: () => this.#tenures.heldShards(),
      draining: (shard) => this.#tenures.isDraining(shard),
      leaseKey: (shard) => this.#leaseKey(shard),
      acquired: (shard, lease) => this.#tenures.acquired(shard, lease),
      handOver: (shard) => this.#tenures.handOver(shard),
    });
    return this.#rebalancer;
  }

  #leaseKey(shard: number): string {
    return `cluster.${this.cluster}.${this.typeName}.${shard}`;
  }

  #call(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.#logger.error("a ClusterNode callback threw", { error: String(err) });
    }
  }
}
