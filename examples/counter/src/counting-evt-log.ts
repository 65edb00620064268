import type { EvtLog, EvtRange, EvtRecord, EvtsByIdOptions, IdEvtRecord } from "@eventsourced/core";
import { ForwardingEvtLog } from "./forwarding-evt-log.js";

/**
 * An EvtLog that passes everything through and counts the events read by id, which is what entity
 * recovery replays: the run reports events replayed per second from it.
 */
export class CountingEvtLog extends ForwardingEvtLog {
  #evtsRead = 0;

  constructor(inner: EvtLog) {
    super(inner);
  }

  /** Events yielded by {@link evtsById} so far. */
  get evtsRead(): number {
    return this.#evtsRead;
  }

  override async *evtsById(type: string, id: string, options: EvtsByIdOptions): AsyncIterable<EvtRecord> {
    for await (const record of super.evtsById(type, id, options)) {
      this.#evtsRead++;
      yield record;
    }
  }

  /** The inner log's bulk read (or its `evtsById` one entity after the other), counted like `evtsById`. */
  override async *evtsByIds(
    type: string,
    ranges: readonly EvtRange[],
    options?: { readonly signal?: AbortSignal | undefined },
  ): AsyncIterable<IdEvtRecord> {
    for await (const record of super.evtsByIds(type, ranges, options)) {
      this.#evtsRead++;
      yield record;
    }
  }
}
