/** Resolves after `ms`, or as soon as one of `signals` aborts; never rejects. */
export function delay(ms: number, ...signals: readonly (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    if (signals.some((signal) => signal?.aborted)) return resolve();
    const timer = setTimeout(done, ms);
    for (const signal of signals) signal?.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      for (const signal of signals) signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
