import type { EvtLog } from "./evt-log.js";

/**
 * How far the readers of an entity type have got: retention never deletes an event that a registered
 * projection has not processed yet. The projections package implements it over its checkpoints; any
 * object with this method will do.
 */
export interface RetentionHorizon {
  /**
   * The lowest checkpoint (a position as `evtsByType` reports it: everything at or below it is processed)
   * of the projections registered for `type`, or `undefined` when none is registered (nothing holds
   * retention back). Throwing makes the retention run delete nothing.
   */
  lowestPosition(type: string): Promise<number | undefined>;
}

/**
 * The highest seqNo in `from..to` whose event every reader has processed (position <= `lowestPosition`),
 * or `from - 1` when there is none. An entity's positions grow with its seqNos, so the first event past
 * the horizon ends the scan. An event read back without a position counts as not processed.
 */
export async function seqNoWithinHorizon(
  evtLog: EvtLog,
  type: string,
  id: string,
  from: number,
  to: number,
  lowestPosition: number,
): Promise<number> {
  let within = from - 1;
  if (to < from) return within;
  const stop = new AbortController();
  try {
    for await (const record of evtLog.evtsById(type, id, { from, to, signal: stop.signal })) {
      if (record.position === undefined || record.position > lowestPosition) break;
      within = record.seqNo;
    }
  } finally {
    stop.abort();
  }
  return within;
}
