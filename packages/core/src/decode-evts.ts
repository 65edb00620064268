import type { Binarizer } from "./binarizer.js";
import type { EvtRecord } from "./evt-log.js";

/**
 * The current events one stored event stands for: several or none when an upcaster split or dropped it
 * (see `upcastingBinarizer`), otherwise exactly one. All of them belong to `record.seqNo`. Recovery folds
 * with it; a projection reading `evtsByType` decodes with it so that it sees what entities see.
 * Throws whatever the binarizer throws on bytes it cannot decode.
 * @example
 * for await (const record of evtLog.evtsByType("account")) {
 *   for (const evt of decodeEvts(binarizer, record)) project(record.id, record.seqNo, evt);
 * }
 */
export function decodeEvts<E>(
  binarizer: Pick<Binarizer<E, unknown>, "evtFromBytes" | "evtsFromBytes">,
  record: Pick<EvtRecord, "bytes" | "contentType">,
): readonly E[] {
  return binarizer.evtsFromBytes === undefined
    ? [binarizer.evtFromBytes(record.bytes, record.contentType)]
    : binarizer.evtsFromBytes(record.bytes, record.contentType);
}
