import type { Binarizer } from "./binarizer.js";
import { type Deferred, deferred } from "./deferred.js";
import type {
  EntityRef,
  EntityStats,
  EntityStatus,
  HandleCmdOptions,
  SnapshotPolicy,
  Termination,
} from "./entity-ref.js";
import {
  ConcurrencyConflictError,
  EntityStoppedError,
  InvalidArgumentError,
  PersistError,
  RecoveryError,
  SeqNoConflictError,
} from "./errors.js";
import type { CmdResult, Emit, EventSourced } from "./event-sourced.js";
import type { EvtLog, EvtMetadata, NewEvt } from "./evt-log.js";
import type { Logger } from "./logger.js";
import { Mailbox, type MailboxItem } from "./mailbox.js";
import { catchUp, isPermanentRecoveryFailure, type Recovered, type RecoverySource } from "./recovery.js";
import { type SnapshotCounters, SnapshotScheduler, snapshotDue } from "./snapshot-scheduler.js";

/** Everything an {@link EntityActor} needs, defaults applied; fixed for its lifetime. */
export interface EntityActorConfig<S, C, E, R, J> {
  readonly id: string;
  readonly definition: EventSourced<S, C, E, R, J>;
  readonly evtLog: EvtLog;
  readonly binarizer: Binarizer<E, S>;
  readonly snapshotStore: RecoverySource<S, E>["snapshotStore"];
  readonly snapshotAfter: SnapshotPolicy<S> | undefined;
  readonly mailboxSize: number;
  readonly maxConflictRetries: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly logger: Logger;
}

/** A command in the mailbox together with its caller's promise. */
class PendingCmd<C, R, J> implements MailboxItem {
  inMailbox = false;
  readonly promise: Promise<CmdResult<R, J>>;
  resolve!: (result: CmdResult<R, J>) => void;
  reject!: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;

  constructor(
    readonly cmd: C,
    readonly metadata: EvtMetadata | undefined,
  ) {
    this.promise = new Promise<CmdResult<R, J>>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** Mutable counters behind {@link EntityStats}. */
interface Counters extends SnapshotCounters {
  accepted: number;
  rejected: number;
  persistFailures: number;
  conflictRetries: number;
  resyncs: number;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Guards against JavaScript callers (or casts) whose handleCmd returns something else, e.g. `undefined`. */
function isDecision(value: unknown): boolean {
  const kind = (value as { kind?: unknown } | null | undefined)?.kind;
  return kind === "emit" || kind === "reply" || kind === "reject";
}

function signalOf(options: HandleCmdOptions): AbortSignal | undefined {
  const { signal, timeoutMs } = options;
  if (timeoutMs === undefined) return signal;
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
}

/**
 * A running entity: a mailbox served by one loop that handles one command at a time.
 *
 * The state is only ever touched by that loop (commands, re-synchronisation) so no locking is needed; the
 * loop runs while there is work and is restarted by the next `handleCmd`, so an idle entity costs nothing
 * but its state.
 */
export class EntityActor<S, C, E, R, J> implements EntityRef<C, R, J> {
  readonly typeName: string;
  readonly id: string;
  readonly whenStopped: Promise<Termination>;

  readonly #config: EntityActorConfig<S, C, E, R, J>;
  readonly #source: RecoverySource<S, E>;
  readonly #mailbox: Mailbox<PendingCmd<C, R, J>>;
  readonly #snapshots: SnapshotScheduler<S> | undefined;
  readonly #counters: Counters = {
    accepted: 0,
    rejected: 0,
    persistFailures: 0,
    conflictRetries: 0,
    resyncs: 0,
    saved: 0,
    failed: 0,
  };
  readonly #terminated: Deferred<Termination> = deferred<Termination>();
  #state: S;
  #seqNo: number;
  #status: EntityStatus = "running";
  // True while a command is being handled or the mailbox is being served.
  #busy = false;
  // Set when the log may know more than we do (a failed persist or a conflict): re-read before the next command.
  #needsResync = false;
  #failure: Error | undefined;
  #failureCause: unknown;
  #stopping: Promise<void> | undefined;
  #terminating = false;
  #wake: (() => void) | undefined;

  constructor(config: EntityActorConfig<S, C, E, R, J>, recovered: Recovered<S>) {
    this.#config = config;
    this.typeName = config.definition.typeName;
    this.id = config.id;
    this.#source = {
      type: this.typeName,
      id: config.id,
      definition: config.definition,
      evtLog: config.evtLog,
      binarizer: config.binarizer,
      snapshotStore: config.snapshotStore,
    };
    this.#state = recovered.state;
    this.#seqNo = recovered.seqNo;
    this.#mailbox = new Mailbox(config.mailboxSize);
    this.#snapshots =
      config.snapshotStore === undefined || config.snapshotAfter === undefined
        ? undefined
        : new SnapshotScheduler(
            this.typeName,
            config.id,
            config.snapshotStore,
            config.binarizer,
            config.logger,
            this.#counters,
          );
    this.whenStopped = this.#terminated.promise;
  }

  get seqNo(): number {
    return this.#seqNo;
  }

  get status(): EntityStatus {
    return this.#status;
  }

  get stats(): EntityStats {
    const c = this.#counters;
    return {
      commandsAccepted: c.accepted,
      commandsRejected: c.rejected,
      persistFailures: c.persistFailures,
      conflictRetries: c.conflictRetries,
      resyncs: c.resyncs,
      snapshotsSaved: c.saved,
      snapshotSaveFailures: c.failed,
      mailboxQueued: this.#mailbox.queued,
      mailboxWaiting: this.#mailbox.waiting,
    };
  }

  handleCmd(cmd: C, options?: HandleCmdOptions): Promise<CmdResult<R, J>> {
    if (this.#status !== "running") return Promise.reject(this.#stoppedError());
    if (!this.#busy && !this.#needsResync && this.#mailbox.size === 0) {
      // Idle entity: the command is handled at once (nothing to wait for, so nothing to give up on), and
      // the handling itself is the caller's promise.
      const signal = options === undefined ? undefined : signalOf(options);
      if (signal?.aborted) return Promise.reject(signal.reason);
      this.#busy = true;
      return this.#run(cmd, signal, options?.metadata, false);
    }
    const pending = new PendingCmd<C, R, J>(cmd, options?.metadata);
    if (options !== undefined && (options.signal !== undefined || options.timeoutMs !== undefined)) {
      const signal = signalOf(options);
      if (signal !== undefined) {
        if (signal.aborted) return Promise.reject(signal.reason);
        pending.signal = signal;
        pending.onAbort = () => {
          if (this.#mailbox.withdraw(pending)) pending.reject(signal.reason);
        };
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
    }
    this.#mailbox.push(pending);
    if (!this.#busy) void this.#drain();
    return pending.promise;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#status === "running") this.#status = "stopping";
    // A re-synchronisation waiting out a backoff makes one last attempt now instead of waiting for the timer.
    this.#wake?.();
    if (!this.#busy && this.#status === "stopping") void this.#terminate({ reason: "stopped" });
    await this.#terminated.promise;
  }

  /** Serves the mailbox until it is empty, one command at a time. */
  async #drain(): Promise<void> {
    this.#busy = true;
    for (;;) {
      // Re-synchronise before taking the next command, so that commands stay withdrawable while the log is
      // unreachable. A failed entity (e.g. a re-run's re-synchronisation failed) serves nothing more.
      if (this.#status === "failed" || (this.#needsResync && !(await this.#resync()))) {
        for (const rest of this.#mailbox.takeAll()) rest.reject(this.#stoppedError());
        break;
      }
      const pending = this.#mailbox.take();
      if (pending === undefined) break;
      // From here on the command completes: giving up is only possible while it waits.
      if (pending.onAbort !== undefined) pending.signal?.removeEventListener("abort", pending.onAbort);
      try {
        pending.resolve(await this.#run(pending.cmd, pending.signal, pending.metadata, true));
      } catch (error) {
        pending.reject(error);
      }
    }
    this.#becomeIdle();
  }

  /**
   * Handles one command to completion: resolves to its result, or rejects with what its caller should get.
   * The only awaits are an async `handleCmd`, `persist`, and re-synchronisation after a conflict, so the hot
   * path suspends once per command. Without `fromMailbox` it was started by an idle `handleCmd` and hands
   * over to the mailbox (or to a pending stop) when done.
   */
  async #run(
    cmd: C,
    signal: AbortSignal | undefined,
    metadata: EvtMetadata | undefined,
    fromMailbox: boolean,
  ): Promise<CmdResult<R, J>> {
    try {
      const { definition, evtLog } = this.#config;
      for (let conflicts = 0; ; conflicts++) {
        const seqNo = this.#seqNo;
        const decided = definition.handleCmd(this.#state, cmd, { id: this.id, seqNo, signal });
        const decision = isPromiseLike(decided) ? await decided : decided;
        if (!isDecision(decision)) {
          throw new InvalidArgumentError(
            `${this.#describe()}: handleCmd returned ${String(decision)}, not emit(...), emitAndReply(...), reply(...) or reject(...)`,
          );
        }
        if (decision.kind === "reply") {
          this.#counters.accepted++;
          return { kind: "accepted", reply: decision.reply, seqNo };
        }
        if (decision.kind === "reject") {
          this.#counters.rejected++;
          return { kind: "rejected", rejection: decision.rejection, seqNo };
        }
        const newEvts = this.#encode(decision.evts, metadata);
        try {
          await evtLog.persist(this.typeName, this.id, seqNo, newEvts);
        } catch (error) {
          await this.#afterPersistFailure(error, conflicts);
          continue;
        }
        return this.#apply(decision, seqNo);
      }
    } finally {
      if (!fromMailbox) {
        if (this.#mailbox.size > 0) void this.#drain();
        else this.#becomeIdle();
      }
    }
  }

  #becomeIdle(): void {
    this.#busy = false;
    if (this.#status === "stopping") void this.#terminate({ reason: "stopped" });
  }

  /**
   * After a failed persist: resolves when the command should be re-run (a conflict within the retry limit,
   * and the entity caught up with the log); otherwise throws what the command's caller gets.
   */
  async #afterPersistFailure(error: unknown, conflicts: number): Promise<void> {
    // Either way the log may now know more than we do.
    this.#needsResync = true;
    if (error instanceof SeqNoConflictError) {
      if (conflicts >= this.#config.maxConflictRetries) {
        throw new ConcurrencyConflictError(this.typeName, this.id, conflicts + 1, { cause: error });
      }
      this.#counters.conflictRetries++;
      if (await this.#resync()) return;
      throw this.#stoppedError();
    }
    this.#counters.persistFailures++;
    throw error instanceof PersistError
      ? error
      : new PersistError(`persisting the events of ${this.#describe()} failed`, true, { cause: error });
  }

  /** Folds durable events into the state, schedules a snapshot when one is due, and builds the reply. */
  #apply(decision: Emit<S, E, R>, seqNo: number): CmdResult<R, J> {
    const evts = decision.evts;
    const handleEvt = this.#config.definition.handleEvt;
    let stateAfter = this.#state;
    try {
      for (let i = 0; i < evts.length; i++) stateAfter = handleEvt(stateAfter, evts[i]!, seqNo + i + 1);
    } catch (error) {
      // The events are durable but do not fold: re-reading them will fail the entity rather than let it
      // serve a state that is not the fold of its log.
      this.#needsResync = true;
      throw error;
    }
    const seqNoAfter = seqNo + evts.length;
    this.#state = stateAfter;
    this.#seqNo = seqNoAfter;
    this.#counters.accepted++;
    this.#maybeSnapshot(stateAfter, seqNo, seqNoAfter);
    return { kind: "accepted", reply: decision.reply(stateAfter), seqNo: seqNoAfter };
  }

  #encode(evts: readonly E[], metadata: EvtMetadata | undefined): NewEvt[] {
    if (evts.length === 0) {
      throw new InvalidArgumentError(
        `${this.#describe()}: handleCmd emitted no events; use reply(...) for a read-only command`,
      );
    }
    const { binarizer } = this.#config;
    const contentType = binarizer.contentType;
    const out = new Array<NewEvt>(evts.length);
    for (let i = 0; i < evts.length; i++) {
      const bytes = binarizer.evtToBytes(evts[i]!);
      out[i] = metadata === undefined ? { bytes, contentType } : { bytes, contentType, metadata };
    }
    return out;
  }

  #maybeSnapshot(state: S, oldSeqNo: number, newSeqNo: number): void {
    const policy = this.#config.snapshotAfter;
    if (this.#snapshots === undefined || policy === undefined) return;
    try {
      if (snapshotDue(policy, state, oldSeqNo, newSeqNo)) this.#snapshots.offer(state, newSeqNo);
    } catch (error) {
      this.#counters.failed++;
      this.#config.logger.warn("snapshot policy threw; no snapshot taken", {
        type: this.typeName,
        id: this.id,
        seqNo: newSeqNo,
        error,
      });
    }
  }

  /**
   * Re-reads the log until it answers, folding the events we have not applied. Returns false when the
   * entity failed instead: the log's history cannot be decoded or folded, or `stop()` was called while the
   * log stayed unreachable.
   */
  async #resync(): Promise<boolean> {
    const { backoffInitialMs, backoffMaxMs, logger } = this.#config;
    let delayMs = backoffInitialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const caughtUp = await catchUp(this.#source, { state: this.#state, seqNo: this.#seqNo });
        this.#state = caughtUp.state;
        this.#seqNo = caughtUp.seqNo;
        this.#needsResync = false;
        this.#counters.resyncs++;
        return true;
      } catch (error) {
        if (isPermanentRecoveryFailure(error)) {
          logger.error("entity failed: its log cannot be re-read", {
            type: this.typeName,
            id: this.id,
            error,
          });
          this.#fail(error as Error, error);
          return false;
        }
        if (this.#status !== "running") {
          logger.error("entity failed: stopped while its log was unreachable", {
            type: this.typeName,
            id: this.id,
            error,
          });
          this.#fail(new RecoveryError(this.typeName, this.id, { cause: error }), error);
          return false;
        }
        logger.warn("cannot re-read the log; queued commands wait", {
          type: this.typeName,
          id: this.id,
          attempt,
          retryInMs: delayMs,
          error,
        });
        await this.#sleep(delayMs);
        delayMs = Math.min(delayMs * 2, backoffMaxMs);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wake = wake;
    });
  }

  #fail(error: Error, commandCause: unknown): void {
    this.#status = "failed";
    this.#failure = error;
    this.#failureCause = commandCause;
    void this.#terminate({ reason: "failed", error });
  }

  async #terminate(termination: Termination): Promise<void> {
    if (this.#terminating) return;
    this.#terminating = true;
    await this.#snapshots?.idle();
    if (termination.reason === "stopped") this.#status = "stopped";
    this.#terminated.resolve(termination);
  }

  #stoppedError(): EntityStoppedError {
    return new EntityStoppedError(
      this.typeName,
      this.id,
      this.#failure === undefined ? undefined : { cause: this.#failureCause },
    );
  }

  #describe(): string {
    return `${this.typeName}/${JSON.stringify(this.id)}`;
  }
}
