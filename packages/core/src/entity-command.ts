import type { AnyResult, EntityCore } from "./entity-core.js";
import { handOnOptions } from "./entity-hand-on.js";
import type { EntityRef } from "./entity-ref.js";
import { caughtUpWithLog, resyncEntity } from "./entity-resync.js";
import { ConcurrencyConflictError, ErrorCode, isEventSourcedError, PersistError } from "./errors/index.js";
import type { CmdSpec, Decision } from "./event-sourced.js";
import type { EvtMetadata, Persisted } from "./evt-log.js";
import type { CommandObservation } from "./instrumentation/command-observation.js";
import { checkDecision, type Prepared, prepareEvts } from "./prepare-evts.js";

/** The key of the actor's method that hands over to its mailbox (or a pending stop) after an idle command. */
export const HAND_OVER: unique symbol = Symbol("handOver");

/** The actor a command runs on, as the command path sees it. */
export interface CmdHost<P extends CmdSpec> extends EntityRef<P> {
  /** Serves what queued up while an idle `handleCmd`'s command ran, or becomes idle. */
  [HAND_OVER](): void;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * Handles one command to completion: resolves to its result, or rejects with what its caller should get.
 * The hot path suspends once per command (at `persist`). Every piece of user code (`handleCmd`, `handleEvt`
 * over the new events, the reply function, the binarizer) runs before the events are persisted. With
 * `handOver` (an idle `handleCmd` started the command) the host hands over to its mailbox or a pending stop
 * when it is over: a method of the actor, so that no closure is kept per resident entity.
 */
export async function runCmd<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  host: CmdHost<P>,
  cmd: P["cmd"],
  signal: AbortSignal | undefined,
  metadata: EvtMetadata | undefined,
  key: string | undefined,
  handOver: boolean,
  observation?: CommandObservation | undefined,
): Promise<AnyResult> {
  try {
    const { definition, evtLog, freshReads } = core.config;
    let checkedLog = !freshReads;
    for (let conflicts = 0; ; ) {
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
      const decided = definition.handleCmd(state, cmd, { id: core.id, seqNo, signal });
      const decision = isPromiseLike(decided) ? await decided : decided;
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
    // The command conflicted and re-reading the log failed the entity: nothing of it was written, so the
    // registry (if it gave a `passOn`) may hand it to the next incarnation.
    const passOn = core.config.passOn;
    if (
      passOn !== undefined &&
      core.lifecycle.status === "failed" &&
      isEventSourcedError(error, ErrorCode.EntityStopped)
    ) {
      const handedOn = passOn(host, cmd, handOnOptions(signal, metadata, key));
      return observation === undefined ? handedOn : observation.settle(handedOn, () => core.seqNo);
    }
    observation?.failed(error, core.seqNo);
    throw error;
  } finally {
    if (handOver) host[HAND_OVER]();
  }
}

/** A reply or rejection: no events, the state stays as it is. */
function answer<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  decision: Decision<S, E, unknown, unknown>,
  seqNo: number,
): AnyResult {
  if (decision.kind === "reply") {
    core.accepted++;
    return { kind: "accepted", reply: decision.reply, seqNo, position: undefined };
  }
  core.rejected++;
  return { kind: "rejected", rejection: (decision as { rejection: unknown }).rejection, seqNo };
}

/** The command's events are durable: adopt the tentative state and reply. */
function commit<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  prepared: Prepared<S>,
  seqNo: number,
  persisted: Persisted,
  key: string | undefined,
): AnyResult {
  const seqNoAfter = seqNo + prepared.evts.length;
  core.state = prepared.stateAfter;
  core.seqNo = seqNoAfter;
  core.accepted++;
  if (key !== undefined) {
    core.recordKey(key, { seqNo: seqNoAfter, position: persisted.position, recordedAtMs: Date.now() });
  }
  if (core.config.snapshotAfter !== undefined)
    core.scheduler().consider(prepared.stateAfter, seqNo, seqNoAfter);
  if (prepared.tombstoneSeqNo !== undefined) core.requestErase(prepared.tombstoneSeqNo);
  return { kind: "accepted", reply: prepared.reply, seqNo: seqNoAfter, position: persisted.position };
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
