import type { AnyResult, EntityCore } from "./entity-core.js";
import { handOnOptions } from "./entity-hand-on.js";
import type { EntityRef } from "./entity-ref.js";
import { ErrorCode, isEventSourcedError } from "./errors/index.js";
import type { CmdSpec, Decision } from "./event-sourced.js";
import type { EvtMetadata, Persisted } from "./evt-log.js";
import type { CommandObservation } from "./instrumentation/command-observation.js";
import type { Prepared } from "./prepare-evts.js";

// The steps shared by the command path's fast path (`entity-command.ts`) and its general loop
// (`entity-command-loop.ts`): the actor as they see it, the outcomes of a command and its failure.

/** The key of the actor's method that hands over to its mailbox (or a pending stop) after an idle command. */
export const HAND_OVER: unique symbol = Symbol("handOver");

/** The actor a command runs on, as the command path sees it. */
export interface CmdHost<P extends CmdSpec> extends EntityRef<P> {
  /** Serves what queued up while an idle `handleCmd`'s command ran, or becomes idle. */
  [HAND_OVER](): void;
}

export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * A command that failed with `error`. When the failure is that a conflict's re-read of the log failed the
 * entity, nothing of the command was written, so the registry (if it gave a `passOn`) may hand it to the
 * next incarnation; otherwise its caller gets `error`. Then hands over when asked (`handOver`). Never throws:
 * whatever goes wrong is in the returned promise.
 */
export function failedCmd<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  host: CmdHost<P>,
  cmd: P["cmd"],
  signal: AbortSignal | undefined,
  metadata: EvtMetadata | undefined,
  key: string | undefined,
  handOver: boolean,
  observation: CommandObservation | undefined,
  error: unknown,
): Promise<AnyResult> {
  try {
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
    return Promise.reject(error);
  } catch (thrown) {
    return Promise.reject(thrown);
  } finally {
    if (handOver) host[HAND_OVER]();
  }
}

/** A reply or rejection: no events, the state stays as it is. */
export function answer<S, E, P extends CmdSpec>(
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
export function commit<S, E, P extends CmdSpec>(
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
