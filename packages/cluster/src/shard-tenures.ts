import type { CmdOf, CmdSpec, EntityRegistry, EvtLog, Logger } from "@eventsourced/core";
import type { Lease, LeaseLogEntry } from "@eventsourced/leases";
import type { LocalOutcome } from "./cluster-client.js";
import type { ClusterNodeOptions } from "./cluster-node-options.js";
import type { ClusterCodec } from "./codec.js";
import { FencedEvtLog } from "./fenced-evt-log.js";
import { isNotHere, remoteFailure } from "./remote-failure.js";
import type { Subjects } from "./routing-options.js";
import { serveRequest } from "./serve-request.js";
import { shardOf } from "./shard-function.js";
import { strictFence } from "./strict-fence.js";
import { Tenure } from "./tenure.js";
import type { ClusterTransport } from "./transport.js";

const NOT_OWNER: LocalOutcome = { kind: "not-owner" };

/** What a {@link ShardTenures} needs from its node. */
export interface ShardTenuresDeps<S, E, P extends CmdSpec> {
  readonly typeName: string;
  readonly shardCount: number;
  readonly maxInFlight: number;
  readonly handoverTimeoutMs: number;
  readonly options: ClusterNodeOptions<S, E>;
  readonly baseLog: EvtLog;
  readonly transport: ClusterTransport;
  readonly subjects: Subjects;
  readonly codec: ClusterCodec;
  readonly logger: Logger;
  /** The node's registry (created after the tenures, which it consults). */
  readonly registry: () => EntityRegistry<S, E, P>;
  /** Calls a user callback, logging what it throws. */
  readonly call: (callback: () => void) => void;
}

/**
 * The lifecycle of the shard tenures of one node: a tenure begins when the shard's lease is acquired
 * (fenced log, subscription to the shard's subject), serves its commands, and ends either lost (the lease's
 * deadline passed: stop serving at once) or handed over (stop accepting, finish in flight, passivate,
 * release, tell the others).
 */
export class ShardTenures<S, E, P extends CmdSpec> {
  readonly #deps: ShardTenuresDeps<S, E, P>;
  readonly #held = new Map<number, Tenure>();
  readonly #draining = new Map<number, Promise<void>>();
  #inFlight = 0;
  #abandoned = 0;

  constructor(deps: ShardTenuresDeps<S, E, P>) {
    this.#deps = deps;
  }

  /** The tenure of `shard` this node holds (valid or not), if any. */
  get(shard: number): Tenure | undefined {
    return this.#held.get(shard);
  }

  /** True while this node holds a tenure of `shard`. */
  has(shard: number): boolean {
    return this.#held.has(shard);
  }

  /** The shards this node holds a tenure of (valid or not). */
  heldShards(): Set<number> {
    return new Set(this.#held.keys());
  }

  /** The shards this node holds and serves now (valid tenure), ascending. */
  validShards(): number[] {
    return [...this.#held.keys()].filter((s) => this.#held.get(s)!.lease.isValid()).sort((a, b) => a - b);
  }

  /** True while a tenure of `shard` is being ended (handed over or lost). */
  isDraining(shard: number): boolean {
    return this.#draining.has(shard);
  }

  /** Shards released by a handover that gave up waiting for their entities (strict fencing only). */
  get abandoned(): number {
    return this.#abandoned;
  }

  /** Whether the log fences the writes of every tenure held (strict fencing, L2): none is, without shards. */
  get allStrict(): boolean {
    return [...this.#held.values()].every((tenure) => tenure.strict);
  }

  /** Hands every shard over; resolves once every tenure has ended. */
  async handOverAll(): Promise<void> {
    for (const tenure of [...this.#held.values()]) this.#handOver(tenure);
    await Promise.allSettled([...this.#draining.values()]);
  }

  /** Hands `shard` over if this node holds it. */
  handOver(shard: number): void {
    const tenure = this.#held.get(shard);
    if (tenure !== undefined) this.#handOver(tenure);
  }

  /** Handles a command of a shard this node holds: `NotOwner` unless the tenure is valid. */
  async handle(
    shard: number,
    id: string,
    commandId: string,
    cmd: unknown,
    timeoutMs: number | undefined,
  ): Promise<LocalOutcome> {
    const tenure = this.#held.get(shard);
    if (tenure === undefined || !tenure.lease.isValid()) return NOT_OWNER;
    if (this.#inFlight >= this.#deps.maxInFlight) return { kind: "overloaded", inFlight: this.#inFlight };
    this.#inFlight++;
    tenure.began();
    try {
      // A routed command gets no timeout here: its sender bounds each attempt itself and retries with the same
      // command id, which the entity applies at most once, while maxInFlight bounds what waits (a timer per
      // command cost more than the rest of the routing). In-process, the timeout bounds the caller's attempt.
      const result = await this.#deps
        .registry()
        .send(
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

  /** A shard's lease was acquired: begin its tenure and serve its subject. */
  acquired(shard: number, lease: Lease): void {
    const deps = this.#deps;
    const tenureInfo = {
      type: deps.typeName,
      shard,
      key: lease.key,
      owner: lease.owner,
      epoch: lease.epoch,
      isValid: () => lease.isValid(),
    };
    const log = (deps.options.fenceLog ?? strictFence)(deps.baseLog, tenureInfo);
    const tenure = new Tenure(shard, lease, new FencedEvtLog(log, lease, shard), log !== deps.baseLog);
    this.#held.set(shard, tenure);
    // Without a queue group (ADR 0129): a former owner still subscribed (frozen, say) gets the requests too,
    // but cannot keep them from this tenure; it answers at most NotOwner, as its lease is no longer valid.
    tenure.subscription = deps.transport.serve(deps.subjects.shard(shard), (request) =>
      serveRequest(request, tenure, deps.shardCount, deps.codec, (id, commandId, cmd) =>
        this.handle(shard, id, commandId, cmd, undefined),
      ),
    );
    const { owner, epoch } = lease;
    const event = {
      type: deps.typeName,
      shard,
      epoch,
      owner,
      at: process.hrtime.bigint(),
      validUntil: lease.validUntil,
    };
    deps.call(() => deps.options.onShardAcquired?.(event));
  }

  /** Every lease log entry; an `"ended"` one ends the tenure (lost) or confirms its release. */
  leaseLog(entry: LeaseLogEntry): void {
    const deps = this.#deps;
    deps.call(() => deps.options.onOwnershipLog?.(entry));
    if (entry.event !== "ended") return;
    const shard = Number(entry.key.slice(entry.key.lastIndexOf(".") + 1));
    const { owner, epoch, at, validUntil } = entry;
    const reason = entry.reason ?? "deadline-passed";
    deps.call(() =>
      deps.options.onShardEnded?.({ type: deps.typeName, shard, epoch, owner, reason, at, validUntil }),
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

  /**
   * A graceful handover: stop accepting, finish in flight, passivate, release, tell the others. Waiting
   * for the entities is bounded by `handoverTimeoutMs` when the log fences the tenure's writes (L2): then
   * the lease is released anyway, and a late write of a stuck entity is refused by the log once the next
   * owner holds the shard. Without strict fencing such a write could commit under the next owner, so the
   * lease is kept (renewed) until the entities stop, however long that takes.
   */
  #handOver(tenure: Tenure): void {
    const shard = tenure.shard;
    this.#held.delete(shard);
    this.#drain(shard, async () => {
      await tenure.subscription?.stop();
      const stopped = tenure.idle().then(() => this.#passivateShard(shard));
      if (!(await this.#within(stopped, shard, tenure.strict))) {
        this.#abandoned++;
        this.#deps.logger.warn("shard handover: entities still busy; releasing the shard (strict fencing)", {
          shard,
          handoverTimeoutMs: this.#deps.handoverTimeoutMs,
        });
        stopped.catch(() => {});
      }
      await tenure.lease.release().catch((err: unknown) => {
        this.#deps.logger.warn("cannot release a shard lease; it expires", { shard, error: String(err) });
      });
      this.#deps.transport.publish(this.#deps.subjects.hint, new Uint8Array(0));
    });
  }

  /** True when `stopped` settled within the handover timeout; without strict fencing, waits for it anyway. */
  async #within(stopped: Promise<void>, shard: number, strict: boolean): Promise<boolean> {
    const ms = this.#deps.handoverTimeoutMs;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      });
      const done = await Promise.race([stopped.then(() => true as const), timeout]).finally(() =>
        clearTimeout(timer),
      );
      if (done) return true;
      if (strict) return false;
      this.#deps.logger.error(
        "shard handover: entities still busy; keeping the shard's lease until they stop (no strict fencing)",
        { shard, handoverTimeoutMs: ms },
      );
    }
  }

  #drain(shard: number, work: () => Promise<void>): void {
    const done = work()
      .catch((err: unknown) =>
        this.#deps.logger.error("shard handover failed", { shard, error: String(err) }),
      )
      .finally(() => {
        if (this.#draining.get(shard) === done) this.#draining.delete(shard);
      });
    this.#draining.set(shard, done);
  }

  #passivateShard(shard: number): Promise<void> {
    return this.#deps.registry().passivateWhere((id) => shardOf(id, this.#deps.shardCount) === shard);
  }
}
