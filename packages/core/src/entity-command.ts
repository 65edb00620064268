import { runCmdLoop } from "./entity-command-loop.js";
import { answer, type CmdHost, commit, failedCmd, HAND_OVER, isPromiseLike } from "./entity-command-steps.js";
import type { AnyResult, EntityCore } from "./entity-core.js";
import type { CmdSpec } from "./event-sourced.js";
import type { EvtMetadata, Persisted } from "./evt-log.js";
import type { CommandObservation } from "./instrumentation/command-observation.js";
import { checkDecision, type Prepared, prepareEvts } from "./prepare-evts.js";

/**
 * Handles one command to completion: resolves to its result, or rejects with what its caller should get.
 * Every piece of user code (`handleCmd`, `handleEvt` over the new events, the reply function, the
 * binarizer) runs before the events are persisted. With `handOver` (an idle `handleCmd` started the
 * command) the host hands over to its mailbox or a pending stop when it is over: a method of the actor, so
 * that no closure is kept per resident entity.
 *
 * The common command (no idempotency key, no instrumentation, no fresh reads, a synchronous `handleCmd`)
 * runs its first attempt synchronously up to `persist` and then waits with two reactions on the persist's
 * promise ({@link whenPersisted}). The general path ({@link runCmdLoop}, which handles everything else) is an
 * async function: each call allocates its frame (parameters and registers), and each `await` its own
 * reactions; on the in-memory log that was a sixth of all the bytes a command allocated (see ADR 0112).
 * Whatever the fast path meets that it does not handle itself (an asynchronous decision, a failed persist)
 * continues in {@link runCmdLoop} from where it stands.
 */
export function runCmd<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  host: CmdHost<P>,
  cmd: P["cmd"],
  signal: AbortSignal | undefined,
  metadata: EvtMetadata | undefined,
  key: string | undefined,
  handOver: boolean,
  observation?: CommandObservation | undefined,
): Promise<AnyResult> {
  const config = core.config;
  if (key !== undefined || observation !== undefined || config.freshReads) {
    return runCmdLoop(core, host, cmd, signal, metadata, key, handOver, observation, undefined);
  }
  let result: AnyResult;
  try {
    const seqNo = core.seqNo;
    const state = core.state;
    const decided = config.definition.handleCmd(state, cmd, { id: core.id, seqNo, signal });
    if (isPromiseLike(decided)) {
      return runCmdLoop(core, host, cmd, signal, metadata, undefined, handOver, undefined, { decided });
    }
    checkDecision(core.typeName, core.id, decided);
    if (decided.kind === "emit") {
      const prepared = prepareEvts(config, core.id, decided, state, seqNo, metadata, undefined);
      let persisting: PromiseLike<Persisted>;
      try {
        persisting = config.evtLog.persist(core.typeName, core.id, seqNo, prepared.evts);
      } catch (error) {
        // A log whose `persist` throws instead of rejecting fails the same way.
        persisting = Promise.reject(error);
      }
      return whenPersisted(core, host, cmd, signal, metadata, handOver, prepared, seqNo, persisting);
    }
    result = answer(core, decided, seqNo);
  } catch (error) {
    return failedCmd(core, host, cmd, signal, metadata, undefined, handOver, undefined, error);
  }
  if (handOver) host[HAND_OVER]();
  return Promise.resolve(result);
}

/**
 * The fast path's wait for `persist`: commits, or continues in {@link runCmdLoop} after a failure. Two
 * reactions on the persist's promise cost less than an async function's frame and its `await`.
 */
function whenPersisted<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  host: CmdHost<P>,
  cmd: P["cmd"],
  signal: AbortSignal | undefined,
  metadata: EvtMetadata | undefined,
  handOver: boolean,
  prepared: Prepared<S>,
  seqNo: number,
  persisting: PromiseLike<Persisted>,
): Promise<AnyResult> {
  // `Promise.resolve` returns a native promise as it is, and makes any other thenable behave like one.
  return Promise.resolve(persisting).then(
    (persisted) => {
      let result: AnyResult;
      try {
        result = commit(core, prepared, seqNo, persisted, undefined);
      } catch (error) {
        return failedCmd(core, host, cmd, signal, metadata, undefined, handOver, undefined, error);
      }
      if (handOver) host[HAND_OVER]();
      return result;
    },
    (error: unknown) =>
      runCmdLoop(core, host, cmd, signal, metadata, undefined, handOver, undefined, { failed: error }),
  );
}
