import { answer, type CmdHost, commit, failedCmd, HAND_OVER, isPromiseLike } from "./entity-command-steps.js";
import type { AnyResult, EntityCore } from "./entity-core.js";
import { caughtUpWithLog, resyncEntity } from "./entity-resync.js";
import { ConcurrencyConflictError, ErrorCode, isEventSourcedError, PersistError } from "./errors/index.js";
import type { CmdSpec, Decision } from "./event-sourced.js";
import type { EvtMetadata, Persisted } from "./evt-log.js";
import type { CommandObservation } from "./instrumentation/command-observation.js";
import { follow } from "./linked-signal.js";
import { checkDecision, prepareEvts } from "./prepare-evts.js";

/** Where {@link runCmdLoop} takes over from the fast path: its first decision, or its first failed persist. */
export type TakeOver = { readonly decided: unknown } | { readonly failed: unknown };

/**
 * The general command path (see `runCmd` for the fast one): idempotency keys, instrumentation, fresh reads,
 * asynchronous decisions and the re-runs after a conflict. With `takeOver` it continues a command the fast
 * path started: from the decision its `handleCmd` returned, or from its first failed persist (counted as the
 * first conflict, if it was one). Hands over when done if `handOver`, like the fast path.
 */
export async function runCmdLoop<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  host: CmdHost<P>,
  cmd: P["cmd"],
  signal: AbortSignal | undefined,
  metadata: EvtMetadata | undefined,
  key: string | undefined,
  handOver: boolean,
  observation: CommandObservation | undefined,
  takeOver: TakeOver | undefined,
): Promise<AnyResult> {
  try {
    const { definition, evtLog, freshReads } = core.config;
    let checkedLog = !freshReads;
    let conflicts = 0;
    if (takeOver !== undefined && "failed" in takeOver) {
      await afterPersistFailure(core, takeOver.failed, conflicts++);
    }
    for (;;) {
      const seqNo = core.seqNo;
      const state = core.state;
      if (key !== undefined) {
        const applied = core.keys?.find(key, Date.now());
        if (applied !== undefined) {
          const duplicate: AnyResult = {
            kind: "duplicate",
            seqNo: applied.seqNo,
            position: applied.position,
          };
          return observation === undefined ? duplicate : observation.answered(duplicate);
        }
      }
      let decided: unknown;
      if (takeOver !== undefined && "decided" in takeOver) {
        decided = takeOver.decided;
        takeOver = undefined;
      } else {
        decided = definition.handleCmd(state, cmd, { id: core.id, seqNo, signal });
      }
      const decision = (
        isPromiseLike(decided) ? await decidedUnlessAbandoned(core, decided, signal) : decided
      ) as Decision<S, E, unknown, unknown>;
      checkDecision(core.typeName, core.id, decision);
      if (decision.kind !== "emit") {
        if (!checkedLog) {
          checkedLog = true;
          if (await caughtUpWithLog(core)) continue;
        }
        const answered = answer(core, decision, seqNo);
        return observation === undefined ? answered : observation.answered(answered);
      }
      const evtMetadata = observation === undefined ? metadata : observation.metadata(metadata);
      const prepared = prepareEvts(core.config, core.id, decision, state, seqNo, evtMetadata, key);
      const sentAt = observation === undefined ? 0 : observation.persistSent();
      let persisted: Persisted;
      try {
        persisted = await evtLog.persist(core.typeName, core.id, seqNo, prepared.evts);
      } catch (error) {
        observation?.persisted(prepared.evts.length, sentAt, undefined, error);
        await afterPersistFailure(core, error, conflicts++);
        continue;
      }
      observation?.persisted(prepared.evts.length, sentAt, persisted.position);
      const committed = commit(core, prepared, seqNo, persisted, key);
      return observation === undefined ? committed : observation.answered(committed);
    }
  } catch (error) {
    return failedCmd(core, host, cmd, signal, metadata, key, false, observation, error);
  } finally {
    if (handOver) host[HAND_OVER]();
  }
}

/**
 * Waits for an asynchronous `handleCmd` while its caller still waits. Nothing is persisted before the decision,
 * so a command whose caller gives up (`signal`, `timeoutMs`) before it is decided is abandoned without
 * effect: this rejects with the signal's reason and the entity goes on with its next command, also when the
 * handler ignores `ctx.signal` or never settles (ADR 0130). A decision that arrives later is dropped, with a
 * warning if it would have emitted events.
 */
function decidedUnlessAbandoned<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  thenable: PromiseLike<unknown>,
  signal: AbortSignal | undefined,
): PromiseLike<unknown> {
  if (signal === undefined) return thenable;
  // A native promise as it is; any other thenable (whose `then` may throw, or call back twice) made into one,
  // so that nothing below, the abort's listener included, can throw.
  const decided = Promise.resolve(thenable);
  if (signal.aborted) return abandoned(core, decided, signal.reason);
  return new Promise((resolve, reject) => {
    // One listener per signal however many commands follow it (a caller's long-lived signal). The abort
    // rejects at once: a decision that has settled but not yet reached this promise (its reaction is still
    // queued) is dropped, as the warning says, rather than persisted after the warning was given.
    const unfollow = follow(signal, () => {
      reportLateDecision(core, decided);
      reject(signal.reason);
    });
    decided.then(
      (decision) => {
        unfollow();
        resolve(decision);
      },
      (error: unknown) => {
        unfollow();
        reject(error);
      },
    );
  });
}

/** Rejects with `reason` at once; the abandoned decision, when it comes, is only reported. */
function abandoned<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  decided: PromiseLike<unknown>,
  reason: unknown,
): Promise<never> {
  reportLateDecision(core, decided);
  return Promise.reject(reason);
}

/** Warns when the decision of an abandoned command, once it comes, would have emitted events. */
function reportLateDecision<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  decided: PromiseLike<unknown>,
): void {
  decided.then(
    (decision) => {
      if ((decision as { kind?: unknown } | null)?.kind === "emit") {
        core.config.logger.warn(
          `handleCmd of ${core.describe()} decided to emit after its caller gave up; the events were dropped (the command had no effect)`,
          { typeName: core.typeName, id: core.id },
        );
      }
    },
    () => {},
  );
}

/**
 * After a failed persist: resolves when the command should be re-run (a conflict within the retry limit,
 * and the entity caught up with the log); otherwise throws what the command's caller gets.
 */
async function afterPersistFailure<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  error: unknown,
  conflicts: number,
): Promise<void> {
  // Either way the log may now know more than we do.
  core.stale = true;
  if (isEventSourcedError(error, ErrorCode.SeqNoConflict)) {
    core.config.instrumentation?.conflict?.({
      typeName: core.typeName,
      id: core.id,
      expectedSeqNo: core.seqNo,
      attempt: conflicts + 1,
      retried: conflicts < core.config.maxConflictRetries,
    });
    if (conflicts >= core.config.maxConflictRetries) {
      throw new ConcurrencyConflictError(core.typeName, core.id, conflicts + 1, { cause: error });
    }
    core.conflictRetries++;
    if (await resyncEntity(core)) return;
    throw core.lifecycle.stoppedError();
  }
  core.persistFailures++;
  // Typed errors from the log (a refused write, a bad argument, lost ownership) reach the caller as they
  // are; anything else is a driver failure whose outcome nobody can vouch for.
  if (isEventSourcedError(error)) throw error;
  throw new PersistError(`persisting the events of ${core.describe()} failed`, true, { cause: error });
}
