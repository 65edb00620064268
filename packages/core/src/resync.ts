import type { Backoff } from "./backoff.js";
import { sleep } from "./deferred.js";
import { RecoveryError } from "./errors/index.js";
import type { Logger } from "./logger.js";
import {
  catchUpOrRecover,
  isPermanentRecoveryFailure,
  type Recovered,
  type RecoverySource,
} from "./recovery.js";

/** How {@link resync} waits and gives up. */
export interface ResyncControl {
  readonly backoff: Backoff;
  readonly logger: Logger;
  /** True once the entity was asked to stop: one more attempt, then give up instead of waiting. */
  stopping(): boolean;
  /** Receives the wake-up of the current wait, so that a stop can cut it short. */
  onWait(wake: (() => void) | undefined): void;
}

/** How {@link resync} ended: caught up, or failed for good (`permanent`) or because the entity stops. */
export type ResyncOutcome<S> =
  | { readonly ok: true; readonly recovered: Recovered<S> }
  | { readonly ok: false; readonly permanent: boolean; readonly error: Error; readonly cause: unknown };

/**
 * Catches `from` up with the log, retrying with backoff while the log cannot be read. Ends in failure on a
 * permanent error (undecodable or unfoldable history) at once, and on a transient one only once
 * `control.stopping()` is true (then `error` is a `RecoveryError` whose `cause` is the last read failure).
 */
export async function resync<S, E>(
  source: RecoverySource<S, E>,
  from: Recovered<S>,
  control: ResyncControl,
): Promise<ResyncOutcome<S>> {
  const { backoff, logger } = control;
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, recovered: await catchUpOrRecover(source, from) };
    } catch (error) {
      if (isPermanentRecoveryFailure(error))
        return { ok: false, permanent: true, error: error as Error, cause: error };
      if (control.stopping()) {
        return {
          ok: false,
          permanent: false,
          error: new RecoveryError(source.type, source.id, { cause: error }),
          cause: error,
        };
      }
      const delayMs = backoff.next();
      logger.warn("cannot re-read the log; queued commands wait", {
        type: source.type,
        id: source.id,
        attempt,
        retryInMs: Math.round(delayMs),
        error,
      });
      const wait = sleep(delayMs);
      control.onWait(wait.wake);
      await wait.done;
      control.onWait(undefined);
    }
  }
}
