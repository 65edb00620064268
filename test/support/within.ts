/**
 * Settles as `promise` does or, after `ms`, with `"still waiting"`: a liveness bound for a call that the
 * code before a fix never settled, so that the test fails with an assertion instead of its own timeout.
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | "still waiting"> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<"still waiting">((resolve) => {
      timer = setTimeout(() => resolve("still waiting"), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
