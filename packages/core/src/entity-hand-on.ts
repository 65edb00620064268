import type { AnyResult, EntityCore } from "./entity-core.js";
import type { EntityRef, HandleCmdOptions, IdempotentCmdOptions } from "./entity-ref.js";
import type { CmdSpec } from "./event-sourced.js";
import type { EvtMetadata } from "./evt-log.js";
import type { PendingCmd } from "./pending-cmd.js";

/** The options to hand a command on with (`undefined` for none, as `exactOptionalPropertyTypes` wants). */
export function handOnOptions(
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

/**
 * A command the entity accepted but will never take (it failed): handed to the registry's `passOn`
 * (the next incarnation) when there is one, else rejected with `EntityStoppedError`.
 */
export function notTaken<S, E, P extends CmdSpec>(
  core: EntityCore<S, E, P>,
  ref: EntityRef<P>,
  pending: PendingCmd<unknown, AnyResult>,
): void {
  pending.taken();
  const passOn = core.config.passOn;
  if (passOn === undefined) {
    pending.settled();
    pending.reject(core.lifecycle.stoppedError());
    return;
  }
  // The caller's timeout keeps running until the next incarnation has answered.
  passOn(ref, pending.cmd, handOnOptions(pending.signal, pending.metadata, pending.key)).then(
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
