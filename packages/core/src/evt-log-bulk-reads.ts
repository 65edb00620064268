import { InvalidArgumentError } from "./errors/index.js";
import type { EvtLog, EvtRecord } from "./evt-log.js";
import { validateTypeAndId } from "./validate.js";

/** One entity's events to read in bulk: seqNos `from .. to`, both inclusive. */
export interface EvtRange {
  readonly id: string;
  /** An integer >= 1. */
  readonly from: number;
  /** An integer; below `from`, the range is empty. Bulk readers need it to size their pages. */
  readonly to: number;
}

/** An event read in bulk: an {@link EvtRecord} with its entity's id. */
export interface IdEvtRecord extends EvtRecord {
  readonly id: string;
}

/**
 * Reading many entities' events at once: the optional capability of an {@link EvtLog} that bulk recovery
 * (`Entity.spawnMany`, the registry's `prefetch`) uses when the log has it (`PostgresEvtLog` does; see
 * {@link supportsBulkReads}). Without it, bulk recovery reads entity by entity with `evtsById`.
 */
export interface EvtLogBulkReads {
  /**
   * The events of every range of entities of `type`: range after range in the order given, each range's
   * events in seqNo order. Ids must be distinct. Like `evtsById`, invalid arguments are reported by the
   * first `next()` (`InvalidArgumentError`), read failures as `ReadError`.
   */
  evtsByIds(
    type: string,
    ranges: readonly EvtRange[],
    options?: { readonly signal?: AbortSignal | undefined },
  ): AsyncIterable<IdEvtRecord>;
}

/** True when `log` reads many entities at once (implements {@link EvtLogBulkReads}). */
export function supportsBulkReads(log: EvtLog): log is EvtLog & EvtLogBulkReads {
  return typeof (log as Partial<EvtLogBulkReads>).evtsByIds === "function";
}

/**
 * {@link EvtLogBulkReads.evtsByIds} on any log: the log's own bulk read when it has one, else one `evtsById`
 * after the other.
 */
export function evtsByIdsOf(
  log: EvtLog,
  type: string,
  ranges: readonly EvtRange[],
  signal?: AbortSignal,
): AsyncIterable<IdEvtRecord> {
  return supportsBulkReads(log)
    ? log.evtsByIds(type, ranges, { signal })
    : oneByOne(log, type, ranges, signal);
}

async function* oneByOne(
  log: EvtLog,
  type: string,
  ranges: readonly EvtRange[],
  signal: AbortSignal | undefined,
): AsyncGenerator<IdEvtRecord> {
  for (const { id, from, to } of ranges) {
    for await (const record of log.evtsById(type, id, { from, to, signal })) yield { ...record, id };
  }
}

/**
 * Throws `InvalidArgumentError` unless `type` and every range's id are valid ({@link validateTypeAndId}),
 * the ids distinct and every `from` an integer >= 1 and `to` an integer. For adapters, when iteration starts.
 */
export function validateEvtRanges(type: string, ranges: readonly EvtRange[]): void {
  validateTypeAndId(type, "-");
  if (!Array.isArray(ranges)) throw new InvalidArgumentError("evtsByIds needs an array of ranges");
  const ids = new Set<string>();
  for (const range of ranges) {
    validateTypeAndId(type, range?.id);
    if (ids.has(range.id)) {
      throw new InvalidArgumentError(`entity id ${JSON.stringify(range.id)} appears twice in one bulk read`);
    }
    ids.add(range.id);
    if (!Number.isSafeInteger(range.from) || range.from < 1) {
      throw new InvalidArgumentError(`invalid seqNo ${range.from} to read from: must be an integer >= 1`);
    }
    if (!Number.isSafeInteger(range.to)) {
      throw new InvalidArgumentError(`invalid seqNo ${range.to} to read to: must be an integer`);
    }
  }
}
