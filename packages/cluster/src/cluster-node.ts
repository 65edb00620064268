import { hostname } from "node:os";
import {
  type CmdOf,
  type CmdResult,
  type CmdSpec,
  ConfigurationError,
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
import { planRebalance } from "./rebalance.js";
import { isNotHere, remoteFailure } from "./remote-failure.js";
import {
  CLUSTER_NAME_PATTERN,
  integerOption,
  NODE_ID_PATTERN,
  patternOption,
  type Subjects,
} from "./routing-options.js";
import { serveRequest } from "./serve-request.js";
import { DEFAULT_SHARD_COUNT, SHARD_HASH, shardOf, validateShardCount } from "./shard-function.js";
import { strictFence, warnWithoutStrictFencing } from "./strict-fence.js";
import { Tenure } from "./tenure.js";
import type { ClusterTransport } from "./transport.js";

type State = "new" | "starting" | "running" | "stopping" | "stopped";
const NOT_OWNER: LocalOutcome = { kind: "not-owner" };
const DEAD_LEASE = { key: "none", epoch: 0, isValid: () => false };
const ACQUIRE_CONCURRENCY = 16;

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
  readonly #minMembers: number;
  readonly #rebalanceEveryMs: number;
  readonly #maxMoveFraction: number;
  readonly #maxInFlight: number;
  readonly #held = new Map<number, Tenure>();
  readonly #draining = new Map<number, Promise<void>>();
  readonly #signals = new Map<NodeJS.Signals, () => void>();
  #store: ClusterStore | undefined;
  #state: State = "new";
  #inFlight = 0;
  #coldStarted = false;
  #round: Promise<void> | undefined;
  #roundAgain = false;
  #roundTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #hints: { stop(): Promise<void> } | undefined;
  #stopped: Promise<void> | undefined;

  /** Validates the options (`ConfigurationError` / `InvalidArgumentError`); `start()` joins the cluster. */
  constructor(definition: EventSourced<S, E, P>, options: ClusterNodeOptions<S, E>) {
    this.#options = options;
    this.cluster = patternOption("cluster", options.cluster ?? "default", CLUSTER_NAME_PATTERN);
    const defaultId = `${hostname()
      .replace(/[^A-Za-z0-9_-]/g, "_")
      .slice(0, 60)}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    this.nodeId = patternOption("nodeId", options.nodeId ?? defaultId, NODE_ID_PATTERN);
    this.shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
    validateShardCount(this.shardCount);
    this.#minMembers = integerOption("minMembers", options.minMembers ?? 1, 1, 10_000);
    this.#rebalanceEveryMs = integerOption(
      "rebalanceEveryMs",
      options.rebalanceEveryMs ?? 1_000,
      10,
      600_000,
    );
    this.#maxInFlight = integerOption("maxInFlight", options.maxInFlight ?? 1_000, 1, 1_000_000);
    this.#maxMoveFraction = options.maxMoveFraction ?? 0.1;
    if (!(this.#maxMoveFraction > 0 && this.#maxMoveFraction <= 1)) {
      throw new ConfigurationError(
        `maxMoveFraction must be > 0 and <= 1, got ${String(this.#maxMoveFraction)}`,
        "maxMoveFraction",
        "ClusterOptions",
      );
    }
    if (options.transport === undefined || options.store === undefined) {
      if (options.nats === undefined) {
        throw new ConfigurationError(
          "give `nats`, or both `transport` and `store`",
          "nats",
          "ClusterOptions",
        );
      }
    }
    if (options.leaseStore === undefined) {
      throw new ConfigurationError("leaseStore is required", "leaseStore", "ClusterOptions");
    }
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
        this.#held.has(shard) ? this.#handle(shard, id, commandId, cmd, timeoutMs) : undefined,
    });
    this.#subjects = this.#client.subjects;
  }

  /** The shards this node owns and serves now, ascending. */
  get shards(): number[] {
    return [...this.#held.keys()].filter((s) => this.#held.get(s)!.lease.isValid()).sort((a, b) => a - b);
  }

  /** `new` until `start()`, then `starting`, `running`, `stopping`, `stopped`. */
  get state(): State {
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
    this.#hints = this.#transport.subscribe(this.#subjects.hint, () =>
      this.#scheduleRound(Math.random() * 20),
    );
    this.#state = "running";
    const heartbeatMs = Math.max(100, Math.floor(this.#store.memberTtlMs / 3));
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(), heartbeatMs);
    for (const signal of this.#options.stopOnSignals ?? []) this.#onSignal(signal);
    await this.#runRound();
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
    clearTimeout(this.#roundTimer);
    clearInterval(this.#heartbeatTimer);
    for (const [signal, handler] of this.#signals) process.off(signal, handler);
    await this.#round?.catch(() => {});
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
    timeoutMs: number,
  ): Promise<LocalOutcome> {
    const tenure = this.#held.get(shard);
    if (tenure === undefined || !tenure.lease.isValid()) return NOT_OWNER;
    if (this.#inFlight >= this.#maxInFlight) return { kind: "overloaded", inFlight: this.#inFlight };
    this.#inFlight++;
    tenure.began();
    try {
      const result = await this.registry.send(id, cmd as CmdOf<P>, {
        idempotencyKey: commandId,
        timeoutMs: Math.max(1, timeoutMs),
      });
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
        serveRequest(request, tenure, this.shardCount, this.#codec, (id, commandId, cmd, timeoutMs) =>
          this.#handle(shard, id, commandId, cmd, timeoutMs),
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

  #scheduleRound(delayMs: number): void {
    if (this.#state !== "running") return;
    if (this.#round !== undefined) {
      this.#roundAgain = true;
      return;
    }
    clearTimeout(this.#roundTimer);
    this.#roundTimer = setTimeout(() => void this.#runRound(), delayMs);
  }

  #runRound(): Promise<void> {
    if (this.#round !== undefined) {
      this.#roundAgain = true;
      return this.#round;
    }
    clearTimeout(this.#roundTimer);
    this.#round = this.#rebalance()
      .catch((err: unknown) => this.#logger.warn("cluster rebalancing round failed", { error: String(err) }))
      .finally(() => {
        this.#round = undefined;
        const again = this.#roundAgain;
        this.#roundAgain = false;
        this.#scheduleRound(again ? 0 : this.#rebalanceEveryMs);
      });
    return this.#round;
  }

  async #rebalance(): Promise<void> {
    if (this.#state !== "running") return;
    const members = await this.#store!.members(this.cluster, this.typeName);
    if (!this.#coldStarted) {
      if (members.length < this.#minMembers) return;
      this.#coldStarted = true;
    }
    const held = new Set(this.#held.keys());
    const plan = planRebalance(
      this.nodeId,
      members,
      this.typeName,
      this.shardCount,
      held,
      this.#maxMoveFraction,
    );
    for (const shard of plan.release) {
      const tenure = this.#held.get(shard);
      if (tenure !== undefined) this.#handOver(tenure);
    }
    const wanted = plan.acquire.filter((shard) => !this.#draining.has(shard));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < wanted.length && this.#state === "running") {
        const shard = wanted[next++]!;
        const lease = await this.#keeper.tryAcquire(this.#leaseKey(shard)).catch((err: unknown) => {
          this.#logger.warn("cannot acquire a shard lease", { shard, error: String(err) });
          return undefined;
        });
        if (lease === undefined || this.#held.has(shard)) continue;
        if (this.#state !== "running") await lease.release().catch(() => {});
        else this.#acquired(shard, lease);
      }
    };
    await Promise.all(Array.from({ length: Math.min(ACQUIRE_CONCURRENCY, wanted.length) }, worker));
  }

  #heartbeat(): void {
    if (this.#state !== "running") return;
    this.#store!.heartbeat(this.cluster, this.typeName, this.nodeId).catch((err: unknown) => {
      this.#logger.warn("cluster heartbeat failed", { error: String(err) });
    });
  }

  #leaseKey(shard: number): string {
    return `cluster.${this.cluster}.${this.typeName}.${shard}`;
  }

  #shardOfKey(key: string): number {
    return Number(key.slice(key.lastIndexOf(".") + 1));
  }

  #onSignal(signal: NodeJS.Signals): void {
    const handler = (): void => {
      this.#signals.delete(signal);
      process.off(signal, handler);
      void this.stop().finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    this.#signals.set(signal, handler);
    process.on(signal, handler);
  }

  #call(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.#logger.error("a ClusterNode callback threw", { error: String(err) });
    }
  }
}
