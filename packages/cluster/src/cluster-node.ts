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
import { type Lease, LeaseKeeper, type LeaseLogEntry } from "@eventsourced/leases";
import { ClusterClient, type LocalOutcome, type SendOptions } from "./cluster-client.js";
import type { ClusterNodeOptions } from "./cluster-node-options.js";
import type { ClusterStore } from "./cluster-store.js";
import { type ClusterCodec, jsonCodec } from "./codec.js";
import { ShardConfigMismatchError } from "./errors.js";
import { FencedEvtLog } from "./fenced-evt-log.js";
import { NatsClusterStore } from "./nats-cluster-store.js";
import { NatsTransport } from "./nats-transport.js";
import { type NodeSettings, nodeSettings, stopOnSignals } from "./node-settings.js";
import { Rebalancer } from "./rebalancer.js";
import { isNotHere, remoteFailure } from "./remote-failure.js";
import type { Subjects } from "./routing-options.js";
import { serveRequest } from "./serve-request.js";
import { SHARD_HASH, shardOf } from "./shard-function.js";
import { strictFence, warnWithoutStrictFencing } from "./strict-fence.js";
import { Tenure } from "./tenure.js";
import type { ClusterTransport } from "./transport.js";

/** Where a {@link ClusterNode} is in its life. */
export type ClusterNodeState = "new" | "starting" | "running" | "stopping" | "stopped";
const NOT_OWNER: LocalOutcome = { kind: "not-owner" };
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
  readonly #held = new Map<number, Tenure>();
  readonly #draining = new Map<number, Promise<void>>();
  #removeSignals: () => void = () => {};
  #store: ClusterStore | undefined;
  #state: ClusterNodeState = "new";
  #inFlight = 0;
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
    this.#transport = options.transport ?? new NatsTransport(options.nats!);
    this.#store = options.store;
    this.#codec = options.codec ?? jsonCodec;
    this.#baseLog = options.registry.evtLog;
    if (options.fenceLog === undefined)
      warnWithoutStrictFencing(this.#baseLog, options.leaseStore, this.#logger);
    this.#deadLog = new FencedEvtLog(this.#baseLog, DEAD_LEASE, -1);
    this.registry = new EntityRegistry(definition, {
      idempotency: {},
      ...options.registry,
      canHost: (id) => this.#held.get(shardOf(id, this.shardCount))?.lease.isValid() === true,
      evtLogFor: (id) => this.#held.get(shardOf(id, this.shardCount))?.log ?? this.#deadLog,
    });
    this.typeName = this.registry.typeName;
    this.#keeper = new LeaseKeeper(options.leaseStore, {
      ...options.lease,
      owner: this.nodeId,
      logger: this.#logger,
      onLog: (entry) => this.#leaseLog(entry),
    });
    this.#client = new ClusterClient({
      typeName: this.typeName,
      cluster: this.cluster,
      shardCount: this.shardCount,
      transport: this.#transport,
      subjectPrefix: options.subjectPrefix,
      codec: this.#codec,
      retry: options.retry,
      local: (shard, id, commandId, cmd, timeoutMs) =>
        this.#held.has(shard) ? this.#handle(shard, id, commandId, cmd, Math.max(1, timeoutMs)) : undefined,
    });
    this.#subjects = this.#client.subjects;
  }

  /** The shards this node owns and serves now, ascending. */
  get shards(): number[] {
    return [...this.#held.keys()].filter((s) => this.#held.get(s)!.lease.isValid()).sort((a, b) => a - b);
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
      const configured = { shardCount: this.shardCount, hash: SHARD_HASH };
      const recorded = await this.#store.recordShardConfig(this.cluster, configured);
      if (recorded.shardCount !== configured.shardCount || recorded.hash !== configured.hash) {
        throw new ShardConfigMismatchError(this.cluster, recorded, configured);
      }
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
   * the TTL) and tells the other members. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    const wasRunning = this.#state === "running";
    this.#state = "stopping";
    this.#client.stop();
    this.#removeSignals();
    await this.#rebalancer?.stop();
    if (wasRunning) {
      await this.#store?.leave(this.cluster, this.typeName, this.nodeId).catch((err: unknown) => {
        this.#logger.warn("cannot leave the cluster's member list; it expires", { error: String(err) });
      });
    }
    const tenures = [...this.#held.values()];
    for (const tenure of tenures) this.#handOver(tenure);
    await Promise.allSettled([...this.#draining.values()]);
    await this.#hints?.stop().catch(() => {});
    await this.registry.close();
    await this.#keeper.close();
    this.#state = "stopped";
  }

  /** Handles a command of a shard this node holds: `NotOwner` unless the tenure is valid. */
  async #handle(
    shard: number,
    id: string,
    commandId: string,
    cmd: unknown,
    timeoutMs: number | undefined,
  ): Promise<LocalOutcome> {
    const tenure = this.#held.get(shard);
    if (tenure === undefined || !tenure.lease.isValid()) return NOT_OWNER;
    if (this.#inFlight >= this.#settings.maxInFlight) return { kind: "overloaded", inFlight: this.#inFlight };
    this.#inFlight++;
    tenure.began();
    try {
      // A routed command gets no timeout here: its sender bounds each attempt itself and retries with the same
      // command id, which the entity applies at most once, while maxInFlight bounds what waits (a timer per
      // command cost more than the rest of the routing). In-process, the timeout bounds the caller's attempt.
      const result = await this.registry.send(
        id,
        cmd as CmdOf<P>,
        timeoutMs === undefined ? { idempotencyKey: commandId } : { idempotencyKey: commandId, timeoutMs },
      );
      return { kind: "result", result };
    } catch (error) {
      if (isNotHere(error)) return NOT_OWNER;
      return { kind: "error", failure: remoteFailure(error) };
    } finally {
      this.#inFlight--;
      tenure.ended();
    }
  }

  #acquired(shard: number, lease: Lease): void {
    const tenureInfo = {
      type: this.typeName,
      shard,
      key: lease.key,
      owner: lease.owner,
      epoch: lease.epoch,
      isValid: () => lease.isValid(),
    };
    const log = (this.#options.fenceLog ?? strictFence)(this.#baseLog, tenureInfo);
    const tenure = new Tenure(shard, lease, new FencedEvtLog(log, lease, shard));
    this.#held.set(shard, tenure);
    tenure.subscription = this.#transport.serve(
      this.#subjects.shard(shard),
      this.#subjects.queue,
      (request) =>
        serveRequest(request, tenure, this.shardCount, this.#codec, (id, commandId, cmd) =>
          this.#handle(shard, id, commandId, cmd, undefined),
        ),
    );
    const { owner, epoch } = lease;
    const event = {
      type: this.typeName,
      shard,
      epoch,
      owner,
      at: process.hrtime.bigint(),
      validUntil: lease.validUntil,
    };
    this.#call(() => this.#options.onShardAcquired?.(event));
  }

  /** Every lease log entry; an `"ended"` one ends the tenure (lost) or confirms its release. */
  #leaseLog(entry: LeaseLogEntry): void {
    this.#call(() => this.#options.onOwnershipLog?.(entry));
    if (entry.event !== "ended") return;
    const shard = this.#shardOfKey(entry.key);
    const { owner, epoch, at, validUntil } = entry;
    const reason = entry.reason ?? "deadline-passed";
    this.#call(() =>
      this.#options.onShardEnded?.({ type: this.typeName, shard, epoch, owner, reason, at, validUntil }),
    );
    const tenure = this.#held.get(shard);
    if (tenure === undefined || tenure.lease.epoch !== epoch) return;
    // Lost: stop serving at once; the entities fail their writes (L1) until they are passivated.
    this.#held.delete(shard);
    this.#drain(shard, async () => {
      await tenure.subscription?.stop();
      await this.#passivateShard(shard);
    });
  }

  /** A graceful handover: stop accepting, finish in flight, passivate, release, tell the others. */
  #handOver(tenure: Tenure): void {
    const shard = tenure.shard;
    this.#held.delete(shard);
    this.#drain(shard, async () => {
      await tenure.subscription?.stop();
      await tenure.idle();
      await this.#passivateShard(shard);
      await tenure.lease.release().catch((err: unknown) => {
        this.#logger.warn("cannot release a shard lease; it expires", { shard, error: String(err) });
      });
      this.#transport.publish(this.#subjects.hint, new Uint8Array(0));
    });
  }

  #drain(shard: number, work: () => Promise<void>): void {
    const done = work()
      .catch((err: unknown) => this.#logger.error("shard handover failed", { shard, error: String(err) }))
      .finally(() => {
        if (this.#draining.get(shard) === done) this.#draining.delete(shard);
      });
    this.#draining.set(shard, done);
  }

  #passivateShard(shard: number): Promise<void> {
    return this.registry.passivateWhere((id) => shardOf(id, this.shardCount) === shard);
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
      held: () => new Set(this.#held.keys()),
      draining: (shard) => this.#draining.has(shard),
      leaseKey: (shard) => this.#leaseKey(shard),
      acquired: (shard, lease) => this.#acquired(shard, lease),
      handOver: (shard) => {
        const tenure = this.#held.get(shard);
        if (tenure !== undefined) this.#handOver(tenure);
      },
    });
    return this.#rebalancer;
  }

  #leaseKey(shard: number): string {
    return `cluster.${this.cluster}.${this.typeName}.${shard}`;
  }

  #shardOfKey(key: string): number {
    return Number(key.slice(key.lastIndexOf(".") + 1));
  }

  #call(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.#logger.error("a ClusterNode callback threw", { error: String(err) });
    }
  }
}
