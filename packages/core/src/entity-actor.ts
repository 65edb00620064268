import { Backoff } from "./backoff.js";
import { type Deferred, deferred } from "./deferred.js";
import { type EntityConfig, recoverySource } from "./entity-config.js";
import type { EntityRef, EntityStats, EntityStatus, HandleCmdOptions, Termination } from "./entity-ref.js";
import {
  ConcurrencyConflictError,
  EncodeError,
  EntityStoppedError,
  ErrorCode,
  EvtHandlerError,
  InvalidArgumentError,
  isEventSourcedError,
  PersistError,
} from "./errors.js";
import type { CmdResult, CmdSpec, Decision, Emit } from "./event-sourced.js";
import type { EvtMetadata, NewEvt, Persisted } from "./evt-log.js";
import { Mailbox } from "./mailbox.js";
import { callerSignal, PendingCmd } from "./pending-cmd.js";
import { catchUp, type Recovered, resync } from "./recovery.js";
import { SnapshotScheduler } from "./snapshot-scheduler.js";

/**
 * Where the entity is in its life. `running` serves commands; `stopping` serves what is queued and takes
 * nothing new; `stopped` and `failed` are final (`failed` keeps why, for the errors of later callers).
 */
type Lifecycle =
  | { readonly status: "running" }
  // `snapshot`: save the final state once the queued commands are done (see `stopWithSnapshot`).
  | { readonly status: "stopping"; readonly snapshot: boolean }
  | { readonly status: "stopped" }
  | { readonly status: "failed"; readonly error: Error; readonly cause: unknown };

const RUNNING: Lifecycle = { status: "running" };
const STOPPING: Lifecycle = { status: "stopping", snapshot: false };
const STOPPING_WITH_SNAPSHOT: Lifecycle = { status: "stopping", snapshot: true };
// The policy of a scheduler created only for a snapshot on stop: nothing else is due.
const NEVER_DUE = (): boolean => false;
const STOPPED: Lifecycle = { status: "stopped" };

// biome-ignore lint/suspicious/noExplicitAny: the actor serves any reply and rejection of its protocol
type AnyResult = CmdResult<any, any>;

/** A command's events, folded and encoded before anything is persisted. */
interface Prepared<S> {
  readonly stateAfter: S;
  readonly reply: unknown;
  readonly evts: NewEvt[];
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** The options to hand a command on with (`undefined` for none, as `exactOptionalPropertyTypes` wants). */
function handleOptions(
  signal: AbortSignal | undefined,
  metadata: EvtMetadata | undefined,
): HandleCmdOptions | undefined {
  if (signal === undefined) return metadata === undefined ? undefined : { metadata };
  return metadata === undefined ? { signal } : { signal, metadata };
}

/** Guards against JavaScript callers (or casts) whose handleCmd returns something else, e.g. `undefined`. */
function isDecision(value: unknown): boolean {
  const kind = (value as { kind?: unknown } | null | undefined)?.kind;
  return kind === "emit" || kind === "reply" || kind === "reject";
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
  #lifecycle: Lifecycle = RUNNING;
  // True while the loop owns the state: a command is being handled or the mailbox is being served.
  #busy = false;
  // True when the log may know more than we do (a failed persist, a conflict): re-read before the next command.
  #stale = false;
  #mailbox: Mailbox<PendingCmd<unknown, AnyResult>> | undefined;
  #snapshots: SnapshotScheduler<S> | undefined;
  #terminated: Deferred<Termination> | undefined;
  #termination: Promise<void> | undefined;
  #wakeResync: (() => void) | undefined;
  #stopped: Promise<void> | undefined;
  #accepted = 0;
  #rejected = 0;
  #persistFailures = 0;
  #conflictRetries = 0;
  #resyncs = 0;

  constructor(config: EntityConfig<S, E, P>, id: string, recovered: Recovered<S>) {
    this.#config = config;
    this.id = id;
    this.#state = recovered.state;
    this.#seqNo = recovered.seqNo;
    this.#recoveredSeqNo = recovered.seqNo;
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
    this.#terminated ??= deferred<Termination>();
    return this.#terminated.promise;
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

  handleCmd(cmd: P["cmd"], options?: HandleCmdOptions): Promise<AnyResult> {
    if (this.#lifecycle.status !== "running") return Promise.reject(this.#stoppedError());
    const signal = options?.signal;
    if (!this.#busy && !this.#stale && (this.#mailbox === undefined || this.#mailbox.size === 0)) {
      // Idle entity: the command is handled at once, so there is no wait to give up on (and no timer).
      if (signal?.aborted) return Promise.reject(signal.reason);
      this.#busy = true;
      return this.#run(cmd, signal, options?.metadata, true);
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
    const pending = new PendingCmd<unknown, AnyResult>(cmd, options?.metadata);
    this.#mailbox ??= new Mailbox(this.#config.mailboxSize);
    const mailbox = this.#mailbox;
    if (caller !== undefined) pending.watch(caller, (p) => mailbox.withdraw(p));
    mailbox.push(pending);
    if (!this.#busy) void this.#drain();
    return pending.promise;
  }

  stop(): Promise<void> {
    return this.#stop(STOPPING);
  }

  /**
   * Like `stop()`, and once the queued commands are done, saves a snapshot of the final state when the
   * entity moved beyond the seqNo it was recovered at (an entity that only answered reads has nothing new to
   * save). Without a snapshot store it is `stop()`. The registry's `snapshotOnPassivate` uses it, so that
   * the next incarnation recovers from the snapshot instead of replaying.
   */
  stopWithSnapshot(): Promise<void> {
    return this.#stop(this.#config.snapshotStore === undefined ? STOPPING : STOPPING_WITH_SNAPSHOT);
  }

  #stop(stopping: Lifecycle): Promise<void> {
    if (this.#lifecycle.status === "running") {
      this.#lifecycle = stopping;
      // A re-synchronisation waiting out a backoff makes one last attempt now instead of waiting.
      this.#wakeResync?.();
      if (!this.#busy) this.#terminate({ reason: "stopped" });
    }
    this.#stopped ??= this.whenStopped.then(() => undefined);
    return this.#stopped;
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
        pending.resolve(await this.#run(pending.cmd, pending.signal, pending.metadata, false));
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
    handOver: boolean,
  ): Promise<AnyResult> {
    try {
      const { definition, evtLog, freshReads } = this.#config;
      let checkedLog = !freshReads;
      for (let conflicts = 0; ; ) {
        const seqNo = this.#seqNo;
        const state = this.#state;
        const decided = definition.handleCmd(state, cmd, { id: this.id, seqNo, signal });
        const decision = isPromiseLike(decided) ? await decided : decided;
        if (!isDecision(decision)) {
          throw new InvalidArgumentError(
            `${this.#describe()}: handleCmd returned ${String(decision)}, not emit(...), emitAndReply(...), reply(...) or reject(...)`,
          );
        }
        if (decision.kind !== "emit") {
          if (!checkedLog) {
            checkedLog = true;
            if (await this.#caughtUpWithLog()) continue;
          }
          return this.#answer(decision, seqNo);
        }
        const prepared = this.#prepare(decision as Emit<S, E, unknown>, state, seqNo, metadata);
        let persisted: Persisted;
        try {
          persisted = await evtLog.persist(this.typeName, this.id, seqNo, prepared.evts);
        } catch (error) {
          await this.#afterPersistFailure(error, conflicts++);
          continue;
        }
        return this.#commit(prepared, seqNo, persisted);
      }
    } catch (error) {
      // The command conflicted and re-reading the log failed the entity: nothing of it was written.
      const passOn = this.#config.passOn;
      if (
        passOn !== undefined &&
        this.#lifecycle.status === "failed" &&
        isEventSourcedError(error, ErrorCode.EntityStopped)
      ) {
        return passOn(this, cmd, handleOptions(signal, metadata));
      }
      throw error;
    } finally {
      if (handOver) {
        if (this.#mailbox !== undefined && this.#mailbox.size > 0) void this.#drain();
        else this.#becomeIdle();
      }
    }
  }

  /** A queued command this (failed) entity will never take: passed on to the next incarnation, or refused. */
  #notTaken(pending: PendingCmd<unknown, AnyResult>): void {
    pending.taken();
    const passOn = this.#config.passOn;
    if (passOn === undefined) {
      pending.settled();
      pending.reject(this.#stoppedError());
      return;
    }
    // The caller's timeout keeps running until the next incarnation has answered.
    passOn(this, pending.cmd, handleOptions(pending.signal, pending.metadata)).then(
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
   * Folds the command's events into a tentative state, computes the reply from it and encodes the events;
   * throws (with nothing persisted) when any of that fails.
   */
  #prepare(
    decision: Emit<S, E, unknown>,
    state: S,
    seqNo: number,
    metadata: EvtMetadata | undefined,
  ): Prepared<S> {
    const evts = decision.evts;
    if (evts.length === 0) {
      throw new InvalidArgumentError(
        `${this.#describe()}: handleCmd emitted no events; use reply(...) for a read-only command`,
      );
    }
    const { definition, binarizer } = this.#config;
    let stateAfter = state;
    for (let i = 0; i < evts.length; i++) {
      try {
        stateAfter = definition.handleEvt(stateAfter, evts[i]!, seqNo + i + 1);
      } catch (cause) {
        throw new EvtHandlerError(this.typeName, this.id, seqNo + i + 1, { cause });
      }
    }
    const reply = decision.reply(stateAfter);
    const contentType = binarizer.contentType;
    const encoded = new Array<NewEvt>(evts.length);
    for (let i = 0; i < evts.length; i++) {
      let bytes: Uint8Array;
      try {
        bytes = binarizer.evtToBytes(evts[i]!);
      } catch (cause) {
        throw new EncodeError(this.typeName, this.id, i, { cause });
      }
      encoded[i] = metadata === undefined ? { bytes, contentType } : { bytes, contentType, metadata };
    }
    return { stateAfter, reply, evts: encoded };
  }

  /** The command's events are durable: adopt the tentative state and reply. */
  #commit(prepared: Prepared<S>, seqNo: number, persisted: Persisted): AnyResult {
    const seqNoAfter = seqNo + prepared.evts.length;
    this.#state = prepared.stateAfter;
    this.#seqNo = seqNoAfter;
    this.#accepted++;
    if (this.#config.snapshotAfter !== undefined)
      this.#scheduler().consider(prepared.stateAfter, seqNo, seqNoAfter);
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
      throw this.#stoppedError();
    }
    this.#persistFailures++;
    // Typed errors from the log (a refused write, a bad argument, lost ownership) reach the caller as they
    // are; anything else is a driver failure whose outcome nobody can vouch for.
    if (isEventSourcedError(error)) throw error;
    throw new PersistError(`persisting the events of ${this.#describe()} failed`, true, { cause: error });
  }

  /** For `freshReads`: true when the log had events we had not applied (now applied). */
  async #caughtUpWithLog(): Promise<boolean> {
    const { evtLog } = this.#config;
    const last = await evtLog.lastSeqNo(this.typeName, this.id);
    if (last === this.#seqNo) return false;
    this.#stale = true;
    const caughtUp = await catchUp(recoverySource(this.#config, this.id), {
      state: this.#state,
      seqNo: this.#seqNo,
    });
    this.#state = caughtUp.state;
    this.#seqNo = caughtUp.seqNo;
    this.#stale = false;
    return true;
  }

  /**
   * Re-reads the log until it answers, folding the events we have not applied. Returns false when the
   * entity failed instead: the log's history cannot be decoded or folded, or `stop()` was called while the
   * log stayed unreachable.
   */
  async #resync(): Promise<boolean> {
    const { logger, retryBackoff } = this.#config;
    const outcome = await resync(
      recoverySource(this.#config, this.id),
      { state: this.#state, seqNo: this.#seqNo },
      {
        backoff: new Backoff(retryBackoff),
        logger,
        stopping: () => this.#lifecycle.status !== "running",
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

  #scheduler(): SnapshotScheduler<S> {
    const { snapshotStore, snapshotAfter, binarizer, logger } = this.#config;
    this.#snapshots ??= new SnapshotScheduler(
      this.typeName,
      this.id,
      snapshotStore!,
      binarizer,
      snapshotAfter ?? NEVER_DUE,
      logger,
    );
    return this.#snapshots;
  }

  #becomeIdle(): void {
    this.#busy = false;
    if (this.#lifecycle.status === "stopping") this.#terminate({ reason: "stopped" });
  }

  #fail(error: Error, cause: unknown): void {
    this.#lifecycle = { status: "failed", error, cause };
    this.#terminate({ reason: "failed", error });
  }

  #terminate(termination: Termination): void {
    const lifecycle = this.#lifecycle;
    if (
      this.#termination === undefined &&
      lifecycle.status === "stopping" &&
      lifecycle.snapshot &&
      this.#seqNo > this.#recoveredSeqNo
    ) {
      this.#scheduler().offer(this.#state, this.#seqNo);
    }
    this.#termination ??= (async () => {
      await this.#snapshots?.idle();
      if (termination.reason === "stopped") this.#lifecycle = STOPPED;
      this.#terminated ??= deferred<Termination>();
      this.#terminated.resolve(termination);
    })();
  }

  #stoppedError(): EntityStoppedError {
    const lifecycle = this.#lifecycle;
    return new EntityStoppedError(
      this.typeName,
      this.id,
      lifecycle.status === "failed" ? { cause: lifecycle.cause } : undefined,
    );
  }

  #describe(): string {
    return `${this.typeName}/${JSON.stringify(this.id)}`;
  }
}
