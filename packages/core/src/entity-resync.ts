import { Backoff } from "./backoff.js";
import { recoverySource } from "./entity-config.js";
import type { EntityCore } from "./entity-core.js";
import type { CmdSpec } from "./event-sourced.js";
import { catchUpOrRecover } from "./recovery.js";
import { resync } from "./resync.js";

/**
 * Re-reads the log until it answers (waiting out the configured backoff between attempts), folding the
 * events the entity has not applied. Returns false when the entity failed instead: the log's history
 * cannot be decoded or folded, or `stop()` was called while the log stayed unreachable.
 */
export async function resyncEntity<S, E, P extends CmdSpec>(core: EntityCore<S, E, P>): Promise<boolean> {
  const { logger, retryBackoff } = core.config;
  const outcome = await resync(
    recoverySource(core.config, core.id, core.onKey()),
    { state: core.state, seqNo: core.seqNo },
    {
      backoff: new Backoff(retryBackoff),
      logger,
      stopping: () => !core.lifecycle.running,
      onWait: (wake) => {
        core.wakeResync = wake;
      },
    },
  );
  if (!outcome.ok) {
    logger.error(
      outcome.permanent
        ? "entity failed: its log cannot be re-read"
        : "entity failed: stopped while its log was unreachable",
      { type: core.typeName, id: core.id, error: outcome.error },
    );
    core.fail(outcome.error, outcome.cause);
    return false;
  }
  core.state = outcome.recovered.state;
  core.seqNo = outcome.recovered.seqNo;
  core.stale = false;
  core.resyncs++;
  return true;
}

/** For `freshReads`: true when the log had events the entity had not applied (now applied). */
export async function caughtUpWithLog<S, E, P extends CmdSpec>(core: EntityCore<S, E, P>): Promise<boolean> {
  const from = { state: core.state, seqNo: core.seqNo };
  // Until the read succeeds the log may know more; a failed read leaves the next command to resync.
  core.stale = true;
  const caughtUp = await catchUpOrRecover(recoverySource(core.config, core.id, core.onKey()), from);
  core.state = caughtUp.state;
  core.seqNo = caughtUp.seqNo;
  core.stale = false;
  return caughtUp.seqNo !== from.seqNo;
}
