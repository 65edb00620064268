/** A promise with its resolve and reject exposed (`Promise.withResolvers` arrives only in Node 22). */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Resolves after `ms`, or at once when `wake()` of the returned handle is called (or `signal` aborts, or
 * has aborted already). Never rejects.
 */
export function sleep(ms: number, signal?: AbortSignal): { readonly done: Promise<void>; wake(): void } {
  let wake!: () => void;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(finish, ms);
    signal?.addEventListener("abort", finish, { once: true });
    // A signal aborted already fires no more events.
    if (signal?.aborted) finish();
    function finish(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", finish);
      resolve();
    }
    wake = finish;
  });
  return { done, wake };
}
