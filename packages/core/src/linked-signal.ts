/** A signal that follows others, and the way to let go of them (see {@link linkSignals}). */
export interface LinkedSignal {
  /** Aborts, with that signal's reason, when any of the linked signals aborts. */
  readonly signal: AbortSignal;
  /** Detaches `signal` from the linked signals; call it when the work it bounds is over. */
  dispose(): void;
}

const NOTHING = (): void => {};

/**
 * Like `AbortSignal.any(signals)` (undefined entries skipped), but leaves nothing on the linked signals once
 * disposed. On Node 20 every signal `AbortSignal.any` returns stays in a set on each of its sources for as
 * long as that source lives, so linking a long-lived signal (a service's shutdown signal, a log's closing
 * signal) once per read or per retry grows it without bound. One listener per linked signal while linked.
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
  const dispose = (): void => {
    for (const source of sources) source.removeEventListener("abort", onAbort);
  };
  function onAbort(this: AbortSignal): void {
    dispose();
    controller.abort(this.reason);
  }
  for (const source of sources) source.addEventListener("abort", onAbort);
  return { signal: controller.signal, dispose };
}
