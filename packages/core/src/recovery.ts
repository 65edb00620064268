import type { Binarizer } from "./binarizer.js";
import { DecodeError, RecoveryError, SnapshotAheadOfLogError } from "./errors.js";
import type { EventSourced } from "./event-sourced.js";
import type { EvtLog } from "./evt-log.js";
import type { SnapshotStore } from "./snapshot-store.js";

/** Where an entity's history comes from. */
export interface RecoverySource<S, E> {
  readonly type: string;
  readonly id: string;
  readonly definition: Pick<EventSourced<S, unknown, E, unknown, unknown>, "initialState" | "handleEvt">;
  readonly evtLog: EvtLog;
  readonly binarizer: Binarizer<E, S>;
  readonly snapshotStore: SnapshotStore | undefined;
}

/** An entity's state and the seqNo of the last event folded into it. */
export interface Recovered<S> {
  readonly state: S;
  readonly seqNo: number;
}

/**
 * True for errors that re-reading cannot cure: the log holds bytes we cannot decode, or its history does
 * not fold. Anything else (a read failing) is worth retrying.
 */
export function isPermanentRecoveryFailure(error: unknown): boolean {
  return error instanceof DecodeError || error instanceof RecoveryError;
}

/**
 * Recovers an entity: the latest snapshot (if a store is given), then exactly the events after it up to the
 * log's last seqNo, in order. Costs one snapshot load, one `lastSeqNo` and one `evtsById` over the tail.
 * @throws DecodeError when the snapshot or an event cannot be decoded (it names the seqNo).
 * @throws SnapshotAheadOfLogError when the snapshot is newer than the log's last event.
 * @throws RecoveryError when `handleEvt` throws or the log's history has a gap.
 */
export async function recover<S, E>(
  source: RecoverySource<S, E>,
  signal?: AbortSignal,
): Promise<Recovered<S>> {
  const { type, id, snapshotStore } = source;
  let start: Recovered<S> = { state: source.definition.initialState(id), seqNo: 0 };
  if (snapshotStore !== undefined) {
    const snapshot = await snapshotStore.load(type, id);
    signal?.throwIfAborted();
    if (snapshot !== undefined) {
      let state: S;
      try {
        state = source.binarizer.stateFromBytes(snapshot.bytes);
      } catch (cause) {
        throw new DecodeError("snapshot", type, id, snapshot.seqNo, { cause });
      }
      start = { state, seqNo: snapshot.seqNo };
    }
  }
  const last = await source.evtLog.lastSeqNo(type, id);
  signal?.throwIfAborted();
  if (start.seqNo > last) throw new SnapshotAheadOfLogError(type, id, start.seqNo, last);
  return foldEvts(source, start, last, signal);
}

/** Brings `from` up to the log's current last seqNo (used after a failed persist or a conflict). */
export async function catchUp<S, E>(
  source: RecoverySource<S, E>,
  from: Recovered<S>,
  signal?: AbortSignal,
): Promise<Recovered<S>> {
  const last = await source.evtLog.lastSeqNo(source.type, source.id);
  if (last < from.seqNo) {
    throw new RecoveryError(source.type, source.id, {
      cause: new Error(`the log ends at seqNo ${last} but the entity has applied up to ${from.seqNo}`),
    });
  }
  return foldEvts(source, from, last, signal);
}

/** Folds the events `from.seqNo + 1 .. to` into `from.state`, checking that they arrive contiguously. */
export async function foldEvts<S, E>(
  source: RecoverySource<S, E>,
  from: Recovered<S>,
  to: number,
  signal?: AbortSignal,
): Promise<Recovered<S>> {
  if (to <= from.seqNo) return from;
  const { type, id, definition, binarizer } = source;
  let { state, seqNo } = from;
  for await (const record of source.evtLog.evtsById(type, id, { from: seqNo + 1, to, signal })) {
    if (record.seqNo !== seqNo + 1) {
      throw new RecoveryError(type, id, {
        cause: new Error(
          `expected the event with seqNo ${seqNo + 1}, the log returned seqNo ${record.seqNo}`,
        ),
      });
    }
    let evt: E;
    try {
      evt = binarizer.evtFromBytes(record.bytes, record.contentType);
    } catch (cause) {
      throw new DecodeError("event", type, id, record.seqNo, { cause });
    }
    try {
      state = definition.handleEvt(state, evt, record.seqNo);
    } catch (cause) {
      throw new RecoveryError(type, id, { cause });
    }
    seqNo = record.seqNo;
  }
  signal?.throwIfAborted();
  if (seqNo !== to) {
    throw new RecoveryError(type, id, {
      cause: new Error(`the log's events end at seqNo ${seqNo}, but its last seqNo was ${to}`),
    });
  }
  return { state, seqNo };
}
