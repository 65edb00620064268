import { SnapshotAheadOfLogError } from "./errors/index.js";
import type { EvtRecord } from "./evt-log.js";
import { type EvtRange, evtsByIdsOf, type IdEvtRecord } from "./evt-log-bulk-reads.js";
import { foldEvts, lookBackForKeys, type Recovered, type RecoverySource } from "./recovery.js";
import { snapshotStart } from "./snapshot-start.js";

/** Entities recovered together: their snapshots and last seqNos are read concurrently, then their events in bulk. */
const GROUP_SIZE = 256;

/** What {@link recoverMany} gives back for each source, in order: its recovered state, or why it failed. */
export type RecoveryOutcome<S> =
  | { readonly ok: true; readonly recovered: Recovered<S> }
  | { readonly ok: false; readonly error: unknown };

/**
 * Recovers many entities of one type as {@link recover} recovers one, with the same checks and errors, but
 * reads their events in bulk (`EvtLogBulkReads.evtsByIds`, a few large queries instead of one or more per
 * entity) and folds each entity's share as it streams by. Groups of {@link GROUP_SIZE} entities bound the
 * memory: their snapshots and last seqNos are read concurrently, then their events in one bulk read.
 * One entity failing does not stop the others; its outcome carries the error.
 */
export async function recoverMany<S, E>(
  sources: readonly RecoverySource<S, E>[],
  signal?: AbortSignal,
): Promise<RecoveryOutcome<S>[]> {
  const outcomes: RecoveryOutcome<S>[] = [];
  for (let at = 0; at < sources.length; at += GROUP_SIZE) {
    outcomes.push(...(await recoverGroup(sources.slice(at, at + GROUP_SIZE), signal)));
  }
  return outcomes;
}

interface Plan<S> {
  readonly start: Recovered<S>;
  readonly last: number;
}

async function recoverGroup<S, E>(
  sources: readonly RecoverySource<S, E>[],
  signal: AbortSignal | undefined,
): Promise<RecoveryOutcome<S>[]> {
  const planned = await Promise.allSettled(
    sources.map(async (source): Promise<Plan<S>> => {
      const start = await snapshotStart(source, signal);
      const last = await source.evtLog.lastSeqNo(source.type, source.id);
      if (start.seqNo > last) throw new SnapshotAheadOfLogError(source.type, source.id, start.seqNo, last);
      await lookBackForKeys(source, start, signal);
      return { start, last };
    }),
  );
  signal?.throwIfAborted();
  const ranges: EvtRange[] = [];
  const rangeOf = new Map<string, number>();
  planned.forEach((plan, i) => {
    if (plan.status === "rejected" || plan.value.last <= plan.value.start.seqNo) return;
    rangeOf.set(sources[i]!.id, ranges.length);
    ranges.push({ id: sources[i]!.id, from: plan.value.start.seqNo + 1, to: plan.value.last });
  });
  const first = sources[0];
  let shares =
    first === undefined || ranges.length === 0
      ? undefined
      : new RangeShares(evtsByIdsOf(first.evtLog, first.type, ranges, signal), rangeOf);
  const outcomes: RecoveryOutcome<S>[] = [];
  for (let i = 0; i < sources.length; i++) {
    const plan = planned[i]!;
    if (plan.status === "rejected") {
      outcomes.push({ ok: false, error: plan.reason });
      continue;
    }
    const source = sources[i]!;
    const { start, last } = plan.value;
    const range = rangeOf.get(source.id);
    try {
      const records = range === undefined ? undefined : shares?.take(range);
      outcomes.push({ ok: true, recovered: await foldEvts(source, start, last, signal, records) });
    } catch (error) {
      // A failed read ends the bulk stream: the entities after this one read on their own.
      if (shares?.failed === true) shares = undefined;
      outcomes.push({ ok: false, error });
    }
  }
  return outcomes;
}

/**
 * Splits one bulk stream (ranges in order) into each range's share, taken one range after the other: a
 * share skips what earlier ranges left unread and stops before the next range's first record.
 */
class RangeShares {
  readonly #iterator: AsyncIterator<IdEvtRecord>;
  readonly #rangeOf: ReadonlyMap<string, number>;
  #peeked: IdEvtRecord | undefined;
  #done = false;
  failed = false;

  constructor(records: AsyncIterable<IdEvtRecord>, rangeOf: ReadonlyMap<string, number>) {
    this.#iterator = records[Symbol.asyncIterator]();
    this.#rangeOf = rangeOf;
  }

  async *take(range: number): AsyncGenerator<EvtRecord> {
    for (;;) {
      const record = await this.#peek();
      if (record === undefined) return;
      const at = this.#rangeOf.get(record.id) ?? -1;
      if (at > range) return;
      this.#peeked = undefined;
      if (at === range) yield record;
    }
  }

  async #peek(): Promise<IdEvtRecord | undefined> {
    if (this.#peeked !== undefined || this.#done) return this.#peeked;
    try {
      const next = await this.#iterator.next();
      if (next.done === true) this.#done = true;
      else this.#peeked = next.value;
      return this.#peeked;
    } catch (err) {
      this.#done = true;
      this.failed = true;
      throw err;
    }
  }
}
