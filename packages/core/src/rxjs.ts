/**
 * rxjs at the edge (`@eventsourced/core/rxjs`; needs the optional peer `rxjs`). AsyncIterable stays the pull
 * contract; this turns it into an Observable where operators help, e.g. projections over a live stream.
 */
import { Observable } from "rxjs";
import type { EvtLog, EvtsByTypeOptions, TypedEvtRecord } from "./evt-log.js";
import { linkSignals } from "./linked-signal.js";

/**
 * An Observable over an AsyncIterable, pulled one item at a time (the source's backpressure is kept: the
 * next item is requested only after the previous one was delivered). Unsubscribing aborts the `signal`
 * handed to `source` and closes the iterator, so a live read ends instead of leaking.
 * @example
 * const sub = toObservable((signal) => log.evtsByType("counter", { live: true, signal })).subscribe(console.log);
 * sub.unsubscribe(); // ends the live read
 */
export function toObservable<T>(
  source: AsyncIterable<T> | ((signal: AbortSignal) => AsyncIterable<T>),
): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    const iterable = typeof source === "function" ? source(controller.signal) : source;
    const iterator = iterable[Symbol.asyncIterator]();
    void (async () => {
      try {
        while (!subscriber.closed) {
          const next = await iterator.next();
          if (next.done || subscriber.closed) break;
          subscriber.next(next.value);
        }
        subscriber.complete();
      } catch (error) {
        subscriber.error(error);
      }
    })();
    return () => {
      controller.abort();
      // Closing is best effort: a generator still waiting inside `next()` closes once that returns.
      iterator.return?.().then(undefined, () => {});
    };
  });
}

/**
 * `evtLog.evtsByType(type, options)` as an Observable; with `live: true` it keeps tailing until
 * unsubscribed (or `options.signal` aborts).
 * @example
 * const sub = observeEvtsByType(log, "counter", { live: true }).pipe(map((r) => r.position)).subscribe(save);
 */
export function observeEvtsByType(
  evtLog: EvtLog,
  type: string,
  options: EvtsByTypeOptions = {},
): Observable<TypedEvtRecord> {
  return toObservable(async function* (signal) {
    // Not `AbortSignal.any`: on Node 20 it would leave an entry on `options.signal` per subscription.
    const linked = linkSignals([options.signal, signal]);
    try {
      yield* evtLog.evtsByType(type, { ...options, signal: linked.signal });
    } finally {
      linked.dispose();
    }
  });
}
