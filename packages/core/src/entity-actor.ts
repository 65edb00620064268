import { Backoff } from "./backoff.js";
import { type EntityConfig, recoverySource } from "./entity-config.js";
import { EntityLifecycle } from "./entity-lifecycle.js";
import type {
  DuplicateResult,
  EntityRef,
  EntityStats,
  EntityStatus,
  HandleCmdOptions,
  IdempotentCmdOptions,
  Termination,
} from "./entity-ref.js";
import { ConcurrencyConflictError, ErrorCode, isEventSourcedError, PersistError } from "./errors/index.js";
import type { CmdResult, CmdSpec, Decision } from "./event-sourced.js";
import type { EvtMetadata, Persisted } from "./evt-log.js";
import { type AppliedKey, IdempotencyWindow } from "./idempotency-window.js";
import { Mailbox } from "./mailbox.js";
import { callerSignal, idempotencyKeyOption, PendingCmd } from "./pending-cmd.js";
import { checkDecision, type Prepared, prepareEvts } from "./prepare-evts.js";
import { catchUpOrRecover, type Recovered, resync } from "./recovery.js";
import { SnapshotScheduler } from "./snapshot-scheduler.js";

// biome-ignore lint/suspicious/noExplicitAny: the actor serves any reply and rejection of its protocol
type AnyResult = CmdResult<any, any> | DuplicateResult;

// The policy of a scheduler created only for a snapshot on stop: nothing else is due.
const NEVER_DUE = (): boolean => false;

/** The options to hand a command on with (`undefined` for none, as `exactOptionalPropertyTypes` wants). */
function handOnOptions(
  signal: AbortSignal | undefined,
  metadata: EvtMetadata | undefined,
  key: string | undefined,
): HandleCmdOptions | IdempotentCmdOptions | undefined {
  if (signal === undefined && metadata === undefined && key === undefined) return undefined;
  return {
    ...(signal === undefined ? {} : { signal }),
    ...(metadata === undefined ? {} : { metadata }),
    ...(key === undefined ? {} : { idempotencyKey: key }),
  };
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * A running entity: a mailbox served by one loop that handles one command at a time.
 *
 * The state is only ever touched by that loop (commands, re-synchronisation), so no locking is needed. The
 * loop runs while there is work and is restarted by the next `handleCmd`; an idle entity holds its state,
 * a few counters and a reference to its (shared) config. The mailbox, the snapshot scheduler and the
 * termination promise are created on first use.
 *
 * Every piece of user code a command runs (`handleCmd`, `handleEvt` over the new events, the reply
 * function, the binarizer) runs before its events are persisted: if any throws, nothing is written, the
 * caller gets a typed error and the entity keeps its state.
 */
export class EntityActor<S, E, P extends CmdSpec> implements EntityRef<P> {
  readonly id: string;
  readonly #config: EntityConfig<S, E, P>;
  #state: S;
  #seqNo: number;
  // The seqNo the entity was recovered at: a snapshot on stop is only worth saving beyond it.
  readonly #recoveredSeqNo: number;
  readonly #lifecycle: EntityLifecycle;
  // True while the loop owns the state: a command is being handled or the mailbox is being served.
  #busy = false;
  // True when the log may know more than we do (a failed persist, a conflict): re-read before the next command.
  #stale = false;
  #mailbox: Mailbox<PendingCmd<unknown, AnyResult>> | undefined;
  #keys: IdempotencyWindow | undefined;
  #snapshots: SnapshotScheduler<S> | undefined;
  #wakeResync: (() => void) | undefined;
  // A tombstone's deletion, requested once the snapshot saves under way are done.
  #erasing: Promise<void> | undefined;
  #accepted = 0;
  #rejected = 0;
  #persistFailures = 0;
  #conflictRetries = 0;
  #resyncs = 0;

  constructor(
    config: EntityConfig<S, E, P>,
    id: string,
    recovered: Recovered<S>,
    keys?: IdempotencyWindow | undefined,
  ) {
    this.#config = config;
    this.id = id;
    this.#lifecycle = new EntityLifecycle(config.typeName, id);
    this.#state = recovered.state;
    this.#seqNo = recovered.seqNo;
    this.#recoveredSeqNo = recovered.seqNo;
    this.#keys = keys;
  }

  get typeName(): string {
    return this.#config.typeName;
  }

  get seqNo(): number {
    return this.#seqNo;
  }

  get status(): EntityStatus {
    return this.#lifecycle.status;
  }

  get whenStopped(): Promise<Termination> {
    return this.#lifecycle.whenStopped;
  }

  get stats(): EntityStats {
    return {
      commandsAccepted: this.#accepted,
      commandsRejected: this.#rejected,
      persistFailures: this.#persistFailures,
      conflictRetries: this.#conflictRetries,
      resyncs: this.#resyncs,
      snapshotsSaved: this.#snapshots?.saved ?? 0,
      snapshotSaveFailures: this.#snapshots?.failed ?? 0,
      mailboxQueued: this.#mailbox?.queued ?? 0,
      mailboxWaiting: this.#mailbox?.waiting ?? 0,
    };
  }

  handleCmd(cmd: P["cmd"], options: IdempotentCmdOptions): Promise<AnyResult>;
  // biome-ignore lint/suspicious/noExplicitAny: the reply and rejection types follow from the protocol
  handleCmd(cmd: P["cmd"], options?: HandleCmdOptions): Promise<CmdResult<any, any>>;
  handleCmd(cmd: P["cmd"], options?: HandleCmdOptions | IdempotentCmdOptions): Promise<AnyResult> {
    if (!this.#lifecycle.running) return Promise.reject(this.#lifecycle.stoppedError());
    const signal = options?.signal;
    let key: string | undefined;
    try {
      key = options === undefined ? undefined : idempotencyKeyOption(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!this.#busy && !this.#stale && (this.#mailbox === undefined || this.#mailbox.size === 0)) {
      // Idle entity: the command is handled at once, so there is no wait to give up on (and no timer).
      if (signal?.aborted) return Promise.reject(signal.reason);
      this.#busy = true;
      return this.#run(cmd, signal, options?.metadata, key, true);
    }
    let caller: ReturnType<typeof callerSignal>;
    try {
      caller = options === undefined ? undefined : callerSignal(this.typeName, this.id, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (caller?.signal.aborted) {
      caller.clear();
      return Promise.reject(caller.signal.reason);
    }
    const pending = new PendingCmd<unknown, AnyResult>(cmd, options?.metadata, key);
    this.#mailbox ??= new Mailbox(this.#config.mailboxSize);
    const mailbox = this.#mailbox;
    if (caller !== undefined) pending.watch(caller, (p) => mailbox.withdraw(p));
    mailbox.push(pending);
    if (!this.#busy) void this.#drain();
    return pending.promise;
  }

  stop(): Promise<void> {
    return this.#stop(false);
  }

  /**
   * Like `stop()`, and once the queued commands are done, saves a snapshot of the final state when the
   * entity moved beyond the seqNo it was recovered at (an entity that only answered reads has nothing new to
   * save). Without a snapshot store it is `stop()`. The registry's `snapshotOnPassivate` uses it, so that
   * the next incarnation recovers from the snapshot instead of replaying.
   */
  stopWithSnapshot(): Promise<void> {
    return this.#stop(this.#config.snapshotStore !== undefined);
  }

  #stop(snapshot: boolean): Promise<void> {
    if (this.#lifecycle.beginStop(snapshot)) {
      // A re-synchronisation waiting out a backoff makes one last attempt now instead of waiting.
      this.#wakeResync?.();
      if (!this.#busy) this.#endIfStopping();
    }
    return this.#lifecycle.stopped();
  }

  /** Serves the mailbox until it is empty, one command at a time. */
  async #drain(): Promise<void> {
    this.#busy = true;
    const mailbox = this.#mailbox!;
    for (;;) {
      // Re-synchronise before taking the next command, so that commands stay withdrawable while the log is
      // unreachable. A failed entity serves nothing more.
      if (this.#lifecycle.status === "failed" || (this.#stale && !(await this.#resync()))) {
        for (const rest of mailbox.takeAll()) this.#notTaken(rest);
        break;
      }
      const pending = mailbox.take();
      if (pending === undefined) break;
      pending.taken();
      try {
        pending.resolve(await this.#run(pending.cmd, pending.signal, pending.metadata, pending.key, false));
      } catch (error) {
        pending.reject(error);
      } finally {
        pending.settled();
      }
    }
    this.#becomeIdle();
  }

  /**
   * Handles one command to completion: resolves to its result, or rejects with what its caller should get.
   * The hot path suspends once per command (at `persist`). With `handOver` it was started by an idle
   * `handleCmd` and hands over to the mailbox (or to a pending stop) when done.
   */
  async #run(
    cmd: P["cmd"],
    signal: AbortSignal | undefined,
    metadata: EvtMetadata | undefined,
    key: string | undefined,
    handOver: boolean,
  ): Promise<AnyResult> {
    try {
      const { definition, evtLog, freshReads } = this.#config;
      let checkedLog = !freshReads;
      for (let conflicts = 0; ; ) {
        const seqNo = this.#seqNo;
        const state = this.#state;
        if (key !== undefined) {
          const applied = this.#keys?.find(key, Date.now());
          if (applied !== undefined)
            return { kind: "duplicate", seqNo: applied.seqNo, position: applied.position };
        }
        const decided = definition.handleCmd(state, cmd, { id: this.id, seqNo, signal });
        const decision = isPromiseLike(decided) ? await decided : decided;
        checkDecision(this.typeName, this.id, decision);
        if (decision.kind !== "emit") {
          if (!checkedLog) {
            checkedLog = true;
            if (await this.#caughtUpWithLog()) continue;
          }
          return this.#answer(decision, seqNo);
        }
        const prepared = prepareEvts(this.#config, this.id, decision, state, seqNo, metadata, key);
        let persisted: Persisted;
        try {
          persisted = await evtLog.persist(this.typeName, this.id, seqNo, prepared.evts);
        } catch (error) {
          await this.#afterPersistFailure(error, conflicts++);
          continue;
        }
        return this.#commit(prepared, seqNo, persisted, key);
      }
    } catch (error) {
      // The command conflicted and re-reading the log failed the entity: nothing of it was written, so the
      // registry (if it gave a `passOn`) may hand it to the next incarnation.
      const passOn = this.#config.passOn;
      if (
        passOn !== undefined &&
        this.#lifecycle.status === "failed" &&
        isEventSourcedError(error, ErrorCode.EntityStopped)
      ) {
        return passOn(this, cmd, handOnOptions(signal, metadata, key));
      }
      throw error;
    } finally {
      if (handOver) {
        if (this.#mailbox !== undefined && this.#mailbox.size > 0) void this.#drain();
        else this.#becomeIdle();
      }
    }
  }

  /** A reply or rejection: no events, the state stays as it is. */
  #answer(decision: Decision<S, E, unknown, unknown>, seqNo: number): AnyResult {
    if (decision.kind === "reply") {
      this.#accepted++;
      return { kind: "accepted", reply: decision.reply, seqNo, position: undefined };
    }
    this.#rejected++;
    return { kind: "rejected", rejection: (decision as { rejection: unknown }).rejection, seqNo };
  }

  /**
   * A command the entity accepted but will never take (it failed): handed to the registry's `passOn`
   * (the next incarnation) when there is one, else rejected with `EntityStoppedError`.
   */
  #notTaken(pending: PendingCmd<unknown, AnyResult>): void {
    pending.taken();
    const passOn = this.#config.passOn;
    if (passOn === undefined) {
      pending.settled();
      pending.reject(this.#lifecycle.stoppedError());
      return;
    }
    // The caller's timeout keeps running until the next incarnation has answered.
    passOn(this, pending.cmd, handOnOptions(pending.signal, pending.metadata, pending.key)).then(
      (result) => {
        pending.settled();
        pending.resolve(result);
      },
      (error: unknown) => {
        pending.settled();
        pending.reject(error);
      },
    );
  }

  /** The command's events are durable: adopt the tentative state and reply. */
  #commit(prepared: Prepared<S>, seqNo: number, persisted: Persisted, key: string | undefined): AnyResult {
    const seqNoAfter = seqNo + prepared.evts.length;
    this.#state = prepared.stateAfter;
    this.#seqNo = seqNoAfter;
    this.#accepted++;
    if (key !== undefined) {
      this.#recordKey(key, { seqNo: seqNoAfter, position: persisted.position, recordedAtMs: Date.now() });
    }
    if (this.#config.snapshotAfter !== undefined)
      this.#scheduler().consider(prepared.stateAfter, seqNo, seqNoAfter);
    if (prepared.tombstoneSeqNo !== undefined) this.#requestErase(prepared.tombstoneSeqNo);
    return { kind: "accepted", reply: prepared.reply, seqNo: seqNoAfter, position: persisted.position };
  }

  /**
   * After a failed persist: resolves when the command should be re-run (a conflict within the retry limit,
   * and the entity caught up with the log); otherwise throws what the command's caller gets.
   */
  async #afterPersistFailure(error: unknown, conflicts: number): Promise<void> {
    // Either way the log may now know more than we do.
    this.#stale = true;
    if (isEventSourcedError(error, ErrorCode.SeqNoConflict)) {
      if (conflicts >= this.#config.maxConflictRetries) {
        throw new ConcurrencyConflictError(this.typeName, this.id, conflicts + 1, { cause: error });
      }
      this.#conflictRetries++;
      if (await this.#resync()) return;
      throw this.#lifecycle.stoppedError();
    }
    this.#persistFailures++;
    // Typed errors from the log (a refused write, a bad argument, lost ownership) reach the caller as they
    // are; anything else is a driver failure whose outcome nobody can vouch for.
    if (isEventSourcedError(error)) throw error;
    throw new PersistError(`persisting the events of ${this.#describe()} failed`, true, { cause: error });
  }

  /** For `freshReads`: true when the log had events we had not applied (now applied). */
  async #caughtUpWithLog(): Promise<boolean> {
    const from = { state: this.#state, seqNo: this.#seqNo };
    // Until the read succeeds the log may know more; a failed read leaves the next command to resync.
    this.#stale = true;
    const caughtUp = await catchUpOrRecover(recoverySource(this.#config, this.id, this.#onKey()), from);
    this.#state = caughtUp.state;
    this.#seqNo = caughtUp.seqNo;
    this.#stale = false;
    return caughtUp.seqNo !== from.seqNo;
  }

  /**
   * Re-reads the log until it answers, folding the events we have not applied. Returns false when the
   * entity failed instead: the log's history cannot be decoded or folded, or `stop()` was called while the
   * log stayed unreachable.
   */
  async #resync(): Promise<boolean> {
    const { logger, retryBackoff } = this.#config;
    const outcome = await resync(
      recoverySource(this.#config, this.id, this.#onKey()),
      { state: this.#state, seqNo: this.#seqNo },
      {
        backoff: new Backoff(retryBackoff),
        logger,
        stopping: () => !this.#lifecycle.running,
        onWait: (wake) => {
          this.#wakeResync = wake;
        },
      },
    );
    if (!outcome.ok) {
      logger.error(
        outcome.permanent
          ? "entity failed: its log cannot be re-read"
          : "entity failed: stopped while its log was unreachable",
        { type: this.typeName, id: this.id, error: outcome.error },
      );
      this.#fail(outcome.error, outcome.cause);
      return false;
    }
    this.#state = outcome.recovered.state;
    this.#seqNo = outcome.recovered.seqNo;
    this.#stale = false;
    this.#resyncs++;
    return true;
  }

  /** Remembers an applied idempotency key; the window is created with the first one. */
  #recordKey(key: string, applied: AppliedKey): void {
    const { maxKeys, maxAgeMs } = this.#config.idempotency;
    this.#keys ??= new IdempotencyWindow(maxKeys, maxAgeMs);
    this.#keys.record(key, applied);
  }

  /** A sink for the keys of events folded while catching up (allocated only then). */
  #onKey(): (key: string, applied: AppliedKey) => void {
    return (key, applied) => this.#recordKey(key, applied);
  }

  #scheduler(): SnapshotScheduler<S> {
    const { snapshotStore, snapshotAfter, binarizer, logger, versioning, retention } = this.#config;
    this.#snapshots ??= new SnapshotScheduler(
      this.typeName,
      this.id,
      snapshotStore!,
      binarizer,
      snapshotAfter ?? NEVER_DUE,
      logger,
      versioning.current,
      retention === undefined ? undefined : () => retention.requestRetention(this.id),
    );
    return this.#snapshots;
  }

  /**
   * Asks for the entity's deletion after a tombstone, once the snapshot saves under way are done: one of
   * them may still hold the state from before the tombstone, and must not land after the deletion.
   */
  #requestErase(tombstoneSeqNo: number): void {
    const retention = this.#config.retention;
    if (retention === undefined) return;
    const snapshots = this.#snapshots;
    if (snapshots === undefined) retention.requestErase(this.id, tombstoneSeqNo);
    else this.#erasing = snapshots.idle().then(() => retention.requestErase(this.id, tombstoneSeqNo));
  }

  /** What termination waits for: snapshot saves, then the background deletion they or a tombstone asked for. */
  #pending(): { idle(): Promise<void> } | undefined {
    const retention = this.#config.retention;
    if (retention === undefined) return this.#snapshots;
    return {
      idle: async () => {
        await this.#snapshots?.idle();
        await this.#erasing;
        await retention.idleFor(this.id);
      },
    };
  }

  #becomeIdle(): void {
    this.#busy = false;
    this.#endIfStopping();
  }

  /** Once idle while stopping: the final snapshot (if asked for and worth it), then termination. */
  #endIfStopping(): void {
    if (this.#lifecycle.status !== "stopping") return;
    if (this.#lifecycle.snapshotOnStop && this.#seqNo > this.#recoveredSeqNo) {
      this.#scheduler().offer(this.#state, this.#seqNo);
    }
    this.#lifecycle.idle(this.#pending());
  }

  #fail(error: Error, cause: unknown): void {
    this.#lifecycle.fail(error, cause, this.#pending());
  }

  #describe(): string {
    return `${this.typeName}/${JSON.stringify(this.id)}`;
  }
}
