/** A signal that follows others, and the way to let go of them (see {@link linkSignals}). */
export interface LinkedSignal {
  /** Aborts, with that signal's reason, when any of the linked signals aborts. */
  readonly signal: AbortSignal;
  /** Detaches `signal` from the linked signals; call it when the work it bounds is over. */
  dispose(): void;
}

const NOTHING = (): void => {};

/**
 * Whatever follows one signal (commands in flight waiting on their caller's signal, linked signals): a
 * single `abort` listener, there while anything follows the signal, fans out to them. Neither
 * `AbortSignal.any([signal, ...])`, which on Node 20 keeps every signal it returns in a set on `signal` for as long as `signal` lives (so a long-lived signal, a
 * service's shutdown signal passed with every command, would grow by one entry per command), nor a listener
 * each, which makes Node warn of a possible leak beyond 10 followers.
 */
class Followers {
  readonly all = new Set<() => void>();
  readonly listener = (): void => {
    // One follower that throws must not keep the abort from the others (their callers would wait for good).
    let failure: { readonly error: unknown } | undefined;
    for (const follower of [...this.all]) {
      try {
        follower();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  };
}

const followersOf = new WeakMap<AbortSignal, Followers>();

/**
 * Calls `onAbort` when `signal` aborts, until the returned function is called. `signal` must not have
 * aborted yet (check first). Everything following one signal shares one listener on it.
 */
export function follow(signal: AbortSignal, onAbort: () => void): () => void {
  let followers = followersOf.get(signal);
  if (followers === undefined) {
    followers = new Followers();
    followersOf.set(signal, followers);
    signal.addEventListener("abort", followers.listener, { once: true });
  }
  const those = followers;
  those.all.add(onAbort);
  return () => {
    if (!those.all.delete(onAbort) || those.all.size > 0) return;
    signal.removeEventListener("abort", those.listener);
    if (followersOf.get(signal) === those) followersOf.delete(signal);
  };
}

/**
 * Like `AbortSignal.any(signals)` (undefined entries skipped), but leaves nothing on the linked signals once
 * disposed. On Node 20 every signal `AbortSignal.any` returns stays in a set on each of its sources for as
 * long as that source lives, so linking a long-lived signal (a service's shutdown signal, a log's closing
 * signal) once per read or per retry grows it without bound. Every link to one signal shares a single
 * listener on it, so many links at once raise no listener-leak warning.
 * @example
 * const linked = linkSignals([options.signal, closing]);
 * try {
 *   await work(linked.signal);
 * } finally {
 *   linked.dispose();
 * }
 */
export function linkSignals(signals: readonly (AbortSignal | undefined)[]): LinkedSignal {
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  const aborted = sources.find((s) => s.aborted);
  if (sources.length === 1 && aborted === undefined) return { signal: sources[0]!, dispose: NOTHING };
  const controller = new AbortController();
  if (aborted !== undefined) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, dispose: NOTHING };
  }
  const unfollows = sources.map((source) =>
    follow(source, () => {
      dispose();
      controller.abort(source.reason);
    }),
  );
  function dispose(): void {
    for (const unfollow of unfollows) unfollow();
  }
  return { signal: controller.signal, dispose };
}
