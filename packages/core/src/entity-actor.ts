import { runCmd } from "./entity-command.js";
import { type CmdHost, HAND_OVER } from "./entity-command-steps.js";
import type { EntityConfig } from "./entity-config.js";
import { type AnyResult, EntityCore } from "./entity-core.js";
import { notTaken } from "./entity-hand-on.js";
import type {
  EntityStats,
  EntityStatus,
  HandleCmdOptions,
  IdempotentCmdOptions,
  Termination,
} from "./entity-ref.js";
import { resyncEntity } from "./entity-resync.js";
import type { CmdResult, CmdSpec } from "./event-sourced.js";
import type { EvtMetadata } from "./evt-log.js";
import type { IdempotencyWindow } from "./idempotency-window.js";
import { CommandObservation } from "./instrumentation/command-observation.js";
import { Mailbox } from "./mailbox.js";
import { callerSignal, idempotencyKeyOption, PendingCmd } from "./pending-cmd.js";
import type { Recovered } from "./recovery.js";
import { validateCmd, validateCmdOptions } from "./validate.js";

/**
 * A running entity: a mailbox served by one loop that handles one command at a time.
 *
 * The state ({@link EntityCore}) is only ever touched by that loop (commands, re-synchronisation), so no
 * locking is needed. The loop runs while there is work and is restarted by the next `handleCmd`; an idle
 * entity holds its state, a few counters and a reference to its (shared) config. The mailbox, the snapshot
 * scheduler and the termination promise are created on first use. Its parts: the lifecycle
 * (`entity-lifecycle.ts`), the command path (`entity-command.ts`), the re-synchronisation after a failed
 * persist (`entity-resync.ts`) and handing commands on to the next incarnation (`entity-hand-on.ts`).
 *
 * Every piece of user code a command runs (`handleCmd`, `handleEvt` over the new events, the reply
 * function, the binarizer) runs before its events are persisted: if any throws, nothing is written, the
 * caller gets a typed error and the entity keeps its state.
 */
export class EntityActor<S, E, P extends CmdSpec> implements CmdHost<P> {
  readonly id: string;
  readonly #core: EntityCore<S, E, P>;
  // True while the loop owns the state: a command is being handled or the mailbox is being served.
  #busy = false;
  #mailbox: Mailbox<PendingCmd<unknown, AnyResult>> | undefined;

  constructor(
    config: EntityConfig<S, E, P>,
    id: string,
    recovered: Recovered<S>,
    keys?: IdempotencyWindow | undefined,
  ) {
    this.id = id;
    this.#core = new EntityCore(config, id, recovered, keys);
  }

  get typeName(): string {
    return this.#core.config.typeName;
  }

  get seqNo(): number {
    return this.#core.seqNo;
  }

  get status(): EntityStatus {
    return this.#core.lifecycle.status;
  }

  get whenStopped(): Promise<Termination> {
    return this.#core.lifecycle.whenStopped;
  }

  get stats(): EntityStats {
    const core = this.#core;
    return {
      commandsAccepted: core.accepted,
      commandsRejected: core.rejected,
      persistFailures: core.persistFailures,
      conflictRetries: core.conflictRetries,
      resyncs: core.resyncs,
      snapshotsSaved: core.snapshots?.saved ?? 0,
      snapshotSaveFailures: core.snapshots?.failed ?? 0,
      mailboxQueued: this.#mailbox?.queued ?? 0,
      mailboxWaiting: this.#mailbox?.waiting ?? 0,
    };
  }

  handleCmd(cmd: P["cmd"], options: IdempotentCmdOptions): Promise<AnyResult>;
  // biome-ignore lint/suspicious/noExplicitAny: the reply and rejection types follow from the protocol
  handleCmd(cmd: P["cmd"], options?: HandleCmdOptions): Promise<CmdResult<any, any>>;
  handleCmd(cmd: P["cmd"], options?: HandleCmdOptions | IdempotentCmdOptions): Promise<AnyResult> {
    const core = this.#core;
    if (!core.lifecycle.running) return Promise.reject(core.lifecycle.stoppedError());
    const signal = options?.signal;
    let key: string | undefined;
    try {
      validateCmd(cmd);
      validateCmdOptions(options);
      key = options === undefined ? undefined : idempotencyKeyOption(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!this.#busy && !core.stale && (this.#mailbox === undefined || this.#mailbox.size === 0)) {
      // Idle entity: the command is handled at once, so there is no wait to give up on. A `timeoutMs` still
      // reaches the handler's `ctx.signal`, as it does for a queued command.
      if (signal?.aborted) return Promise.reject(signal.reason);
      const timed =
        options?.timeoutMs === undefined ? undefined : callerSignal(this.typeName, this.id, options);
      const observation = this.#observe(cmd, options?.metadata);
      this.#busy = true;
      // The command path reports the answer itself: no promise is wrapped on this, the hot path.
      const result = runCmd(
        core,
        this,
        cmd,
        timed?.signal ?? signal,
        options?.metadata,
        key,
        true,
        observation,
      );
      if (timed !== undefined) result.then(timed.clear, timed.clear);
      return result;
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
    const observation = this.#observe(cmd, options?.metadata);
    const pending = new PendingCmd<unknown, AnyResult>(cmd, options?.metadata, key, observation);
    this.#mailbox ??= new Mailbox(core.config.mailboxSize);
    const mailbox = this.#mailbox;
    if (caller !== undefined) pending.watch(caller, (p) => mailbox.withdraw(p));
    mailbox.push(pending);
    if (!this.#busy) void this.#drain();
    return observation === undefined
      ? pending.promise
      : observation.settle(pending.promise, () => core.seqNo);
  }

  /** Starts following a command when the entity is instrumented (undefined, and nothing done, otherwise). */
  #observe(cmd: P["cmd"], metadata: EvtMetadata | undefined): CommandObservation | undefined {
    const { instrumentation, typeName } = this.#core.config;
    if (instrumentation === undefined) return undefined;
    return CommandObservation.start(instrumentation, typeName, this.id, cmd, metadata, this.#core.seqNo);
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
    return this.#stop(this.#core.config.snapshotStore !== undefined);
  }

  /**
   * A registry's automatic passivation (idle, limit): `stopWithSnapshot()` when `snapshot`, else `stop()`,
   * except that the entity's queued background deletion (retention, erasure after a tombstone) is not
   * hurried and not waited for: it stays with the type's retention runner, paced, and the id's next recovery
   * waits for it (ADR 0120).
   */
  passivate(snapshot: boolean): Promise<void> {
    return this.#stop(snapshot && this.#core.config.snapshotStore !== undefined, true);
  }

  #stop(snapshot: boolean, leaveDeletion = false): Promise<void> {
    const core = this.#core;
    if (core.lifecycle.beginStop(snapshot, leaveDeletion)) {
      // A re-synchronisation waiting out a backoff makes one last attempt now instead of waiting.
      core.wakeResync?.();
      if (!this.#busy) this.#endIfStopping();
    }
    return core.lifecycle.stopped();
  }

  /** Serves the mailbox until it is empty, one command at a time. */
  async #drain(): Promise<void> {
    this.#busy = true;
    const core = this.#core;
    const mailbox = this.#mailbox!;
    for (;;) {
      // Re-synchronise before taking the next command, so that commands stay withdrawable while the log is
      // unreachable. A failed entity serves nothing more.
      if (core.lifecycle.status === "failed" || (core.stale && !(await resyncEntity(core)))) {
        for (const rest of mailbox.takeAll()) notTaken(core, this, rest);
        break;
      }
      const pending = mailbox.take();
      if (pending === undefined) break;
      pending.taken();
      try {
        pending.resolve(
          await runCmd(
            core,
            this,
            pending.cmd,
            pending.signal,
            pending.metadata,
            pending.key,
            false,
            pending.observation,
          ),
        );
      } catch (error) {
        pending.reject(error);
      } finally {
        pending.settled();
      }
    }
    this.#becomeIdle();
  }

  /** After a command an idle `handleCmd` started: serve what queued up meanwhile, or become idle. */
  [HAND_OVER](): void {
    if (this.#mailbox !== undefined && this.#mailbox.size > 0) void this.#drain();
    else this.#becomeIdle();
  }

  #becomeIdle(): void {
    this.#busy = false;
    this.#endIfStopping();
  }

  /** Once idle while stopping: the final snapshot (if asked for and worth it), then termination. */
  #endIfStopping(): void {
    const core = this.#core;
    if (core.lifecycle.status !== "stopping") return;
    if (core.lifecycle.snapshotOnStop && core.seqNo > core.recoveredSeqNo) {
      core.scheduler().offer(core.state, core.seqNo);
    }
    core.lifecycle.idle(core.pending());
  }
}
