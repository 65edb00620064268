/**
 * rxjs at the edge (`@eventsourced/projections/rxjs`; needs the optional peer `rxjs`): a type's events,
 * decoded, as an Observable for users who compose with operators. Checkpoints, retries and dead letters are
 * the `Projection`'s job; this is the plain stream.
 */
import { type EvtLog, type EvtsByTypeOptions, linkSignals } from "@eventsourced/core";
import { toObservable } from "@eventsourced/core/rxjs";
import type { Observable } from "rxjs";
import { decodeRecord, type EvtDecoder, isUndecodable, type ProjectedEvt } from "./projected-evt.js";

/** Options of {@link observeProjected}. */
export interface ObserveProjectedOptions extends Omit<EvtsByTypeOptions, "undecodable"> {
  /** An event that cannot be decoded ends the stream with its `DecodeError` (default) or is skipped. */
  readonly undecodable?: "error" | "skip" | undefined;
}

/**
 * `evtLog.evtsByType(type, options)` decoded with `decoder`, as an Observable; with `live: true` it tails
 * until unsubscribed (which ends the read).
 * @example
 * observeProjected(log, "counter", binarizer, { live: true }).pipe(bufferTime(100)).subscribe(render);
 */
export function observeProjected<E>(
  evtLog: EvtLog,
  type: string,
  decoder: EvtDecoder<E>,
  options: ObserveProjectedOptions = {},
): Observable<ProjectedEvt<E>> {
  const { undecodable = "error", ...read } = options;
  return toObservable<ProjectedEvt<E>>(async function* (signal) {
    // Not `AbortSignal.any`: on Node 20 it would leave an entry on `read.signal` per subscription.
    const linked = linkSignals([read.signal, signal]);
    try {
      const records = evtLog.evtsByType(type, { ...read, signal: linked.signal, undecodable: "yield" });
      for await (const record of records) {
        const decoded = decodeRecord(record, decoder);
        if (!isUndecodable(decoded)) yield decoded;
        else if (undecodable === "error") throw decoded.error;
      }
    } finally {
      linked.dispose();
    }
  });
}
