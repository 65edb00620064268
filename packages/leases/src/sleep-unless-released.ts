/**
 * Resolves after `ms`, when `signal` aborts, or when `released` (a store's release notice for the awaited
 * key) resolves, whichever comes first. Never rejects: a failing notice only leaves the poll to end the wait.
 */
export async function sleepUnlessReleased(
  ms: number,
  signal: AbortSignal,
  released: ((signal: AbortSignal) => Promise<void> | undefined) | undefined,
): Promise<void> {
  if (signal.aborted) return;
  const done = new AbortController();
  const onAbort = () => done.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const sleeping = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      done.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
    const notice = released?.(done.signal);
    await (notice === undefined ? sleeping : Promise.race([sleeping, notice.catch(() => sleeping)]));
  } finally {
    signal.removeEventListener("abort", onAbort);
    done.abort();
  }
}
