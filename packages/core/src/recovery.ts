import type { Binarizer } from "./binarizer.js";
import { decodeEvts } from "./decode-evts.js";
import {
  DecodeError,
  ErrorCode,
  EventsDeletedError,
  isEventSourcedError,
  RecoveryError,
  SnapshotAheadOfLogError,
} from "./errors/index.js";
import type { EventSourced } from "./event-sourced.js";
import type { EvtLog, EvtRecord } from "./evt-log.js";
import { supportsRetention } from "./evt-log-retention.js";
import { type AppliedKey, idempotencyKeyOf } from "./idempotency-window.js";
import type { Logger } from "./logger.js";
import { snapshotStart } from "./snapshot-start.js";
import type { SnapshotStore } from "./snapshot-store.js";
import type { ResolvedSnapshotVersioning } from "./snapshot-versioning.js";

/** Where an entity's history comes from. */
export interface RecoverySource<S, E> {
  readonly type: string;
  readonly id: string;
  readonly definition: Pick<EventSourced<S, E>, "initialState" | "handleEvt">;
  readonly evtLog: EvtLog;
  readonly binarizer: Binarizer<E, S>;
  readonly snapshotStore: SnapshotStore | undefined;
  /** Receives the idempotency key of every event folded (or looked back at) that carries one. */
  readonly onKey?: ((key: string, applied: AppliedKey) => void) | undefined;
  /**
   * When recovering from a snapshot, also read back this many events before it (their metadata only, not
   * folded) so that `onKey` sees the keys of recent commands the snapshot covers. Default 0.
   */
  readonly keyLookback?: number | undefined;
  /** Which snapshot versions can be decoded (default: only unversioned ones). */
  readonly versioning?: ResolvedSnapshotVersioning | undefined;
  /** True for an event that deletes the entity: recovery may start at it when earlier events are gone. */
  readonly isTombstone?: ((evt: E) => boolean) | undefined;
  /** Told about snapshots that are skipped. */
  readonly logger?: Logger | undefined;
}

/** An entity's state and the seqNo of the last event folded into it. */
export interface Recovered<S> {
  readonly state: S;
  readonly seqNo: number;
  /**
   * The seqNo of the last tombstone folded while events before it were still in the log (their deletion
   * has not finished): set only by recovery with `isTombstone`.
   */
  readonly tombstoneSeqNo?: number | undefined;
  /** The seqNo of the snapshot recovery started from (set by `recover` only, when it used one). */
  readonly snapshotSeqNo?: number | undefined;
}

/**
 * True for errors that re-reading cannot cure: the log holds bytes we cannot decode, or its history does
 * not fold. Anything else (a read failing) is worth retrying.
 */
export function isPermanentRecoveryFailure(error: unknown): boolean {
  return (
    isEventSourcedError(error, ErrorCode.Decode) ||
    isEventSourcedError(error, ErrorCode.Recovery) ||
    isEventSourcedError(error, ErrorCode.EventsDeleted)
  );
}

/**
 * Recovers an entity: the latest readable snapshot (if a store is given), then exactly the events after it
 * up to the log's last seqNo, in order. Costs one snapshot load, one `lastSeqNo` and one `evtsById` over
 * the tail (plus a look at older snapshots when the latest has a version the code does not read).
 * @throws DecodeError when the snapshot or an event cannot be decoded (it names the seqNo).
 * @throws SnapshotAheadOfLogError when the snapshot is newer than the log's last event.
 * @throws SnapshotVersionUnknownError when the snapshot's version is unknown and the versioning says reject.
 * @throws EventsDeletedError when events it needs were deleted and no usable snapshot covers them.
 * @throws RecoveryError when `handleEvt` throws or the log's history has a gap.
 */
export async function recover<S, E>(
  source: RecoverySource<S, E>,
  signal?: AbortSignal,
): Promise<Recovered<S>> {
  const { type, id } = source;
  const start = await snapshotStart(source, signal);
  const last = await source.evtLog.lastSeqNo(type, id);
  signal?.throwIfAborted();
  if (start.seqNo > last) throw new SnapshotAheadOfLogError(type, id, start.seqNo, last);
  await lookBackForKeys(source, start, signal);
  const recovered = await foldEvts(source, start, last, signal);
  return start.seqNo > 0 ? { ...recovered, snapshotSeqNo: start.seqNo } : recovered;
}

/**
 * When recovery starts from a snapshot, reads back `keyLookback` events before it (metadata only, not
 * folded) so that `onKey` sees the idempotency keys of recent commands the snapshot covers.
 */
export async function lookBackForKeys<S, E>(
  source: RecoverySource<S, E>,
  start: Recovered<S>,
  signal?: AbortSignal,
): Promise<void> {
  const lookback = source.keyLookback ?? 0;
  if (source.onKey === undefined || lookback <= 0 || start.seqNo <= 0) return;
  const from = Math.max(1, start.seqNo - lookback + 1);
  for await (const record of source.evtLog.evtsById(source.type, source.id, {
    from,
    to: start.seqNo,
    signal,
  })) {
    reportKey(source, record);
  }
}

/**
 * {@link catchUp}, or, when events after `from` were deleted meanwhile (another process's retention ran
 * while this entity was behind), a full {@link recover} from the snapshots instead.
 */
export async function catchUpOrRecover<S, E>(
  source: RecoverySource<S, E>,
  from: Recovered<S>,
  signal?: AbortSignal,
): Promise<Recovered<S>> {
  try {
    return await catchUp(source, from, signal);
  } catch (error) {
    if (!isEventSourcedError(error, ErrorCode.EventsDeleted)) throw error;
    return recover(source, signal);
  }
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

/**
 * Folds the events `from.seqNo + 1 .. to` into `from.state`, checking that they arrive contiguously. When
 * the first of them are missing because the log deleted them, it starts over at the first tombstone after
 * them (see `RetentionPolicy.isTombstone`), or fails with `EventsDeletedError`. The events come from
 * `records` when given (a bulk read's share for this entity), else from the log's `evtsById`.
 */
export async function foldEvts<S, E>(
  source: RecoverySource<S, E>,
  from: Recovered<S>,
  to: number,
  signal?: AbortSignal,
  records?: AsyncIterable<EvtRecord>,
): Promise<Recovered<S>> {
  if (to <= from.seqNo) return from;
  const { type, id, definition, binarizer, isTombstone } = source;
  let { state, seqNo } = from;
  let tombstoneSeqNo: number | undefined;
  // Set when the events after `from` were deleted: skip to the first tombstone and start over there.
  let seeking = false;
  let deletedTo = 0;
  // One stored event is one event, and none is a tombstone to look for.
  const single = binarizer.evtsFromBytes === undefined && isTombstone === undefined;
  for await (const record of records ?? source.evtLog.evtsById(type, id, { from: seqNo + 1, to, signal })) {
    if (!seeking && record.seqNo !== seqNo + 1) {
      if (seqNo !== from.seqNo || record.seqNo < seqNo + 1) throw gapError(source, seqNo, record.seqNo);
      deletedTo = await deletedSince(source, seqNo + 1);
      if (deletedTo === 0) throw gapError(source, seqNo, record.seqNo);
      if (isTombstone === undefined) throw new EventsDeletedError(type, id, deletedTo, seqNo + 1);
      seeking = true;
    }
    if (single) {
      // The common case, without an array per event: replay decodes and folds every event.
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
      if (source.onKey !== undefined) reportKey(source, record);
      continue;
    }
    let evts: readonly E[];
    try {
      evts = decodeEvts(binarizer, record);
    } catch (cause) {
      throw new DecodeError("event", type, id, record.seqNo, { cause });
    }
    let first = 0;
    if (isTombstone !== undefined) {
      const at = lastIndexWhere(evts, isTombstone);
      if (seeking) {
        if (at < 0) continue;
        seeking = false;
        state = definition.initialState(id);
        first = at;
      } else if (at >= 0 && record.seqNo > 1) {
        tombstoneSeqNo = record.seqNo;
      }
    }
    try {
      for (let i = first; i < evts.length; i++) state = definition.handleEvt(state, evts[i]!, record.seqNo);
    } catch (cause) {
      throw new RecoveryError(type, id, { cause });
    }
    seqNo = record.seqNo;
    if (source.onKey !== undefined) reportKey(source, record);
  }
  signal?.throwIfAborted();
  if (seeking) throw new EventsDeletedError(type, id, deletedTo, from.seqNo + 1);
  if (seqNo !== to) {
    if (seqNo === from.seqNo) {
      deletedTo = await deletedSince(source, seqNo + 1);
      if (deletedTo > 0) throw new EventsDeletedError(type, id, deletedTo, seqNo + 1);
    }
    throw new RecoveryError(type, id, {
      cause: new Error(`the log's events end at seqNo ${seqNo}, but its last seqNo was ${to}`),
    });
  }
  return tombstoneSeqNo === undefined ? { state, seqNo } : { state, seqNo, tombstoneSeqNo };
}

function lastIndexWhere<E>(evts: readonly E[], predicate: (evt: E) => boolean): number {
  for (let i = evts.length - 1; i >= 0; i--) if (predicate(evts[i]!)) return i;
  return -1;
}

function gapError<S, E>(source: RecoverySource<S, E>, seqNo: number, got: number): RecoveryError {
  return new RecoveryError(source.type, source.id, {
    cause: new Error(`expected the event with seqNo ${seqNo + 1}, the log returned seqNo ${got}`),
  });
}

/**
 * The events from `neededFrom` on are missing at the start of a read: the log's `deletedTo` when it
 * deleted them, 0 when it says they were never deleted (a real gap) or cannot delete at all.
 */
async function deletedSince<S, E>(source: RecoverySource<S, E>, neededFrom: number): Promise<number> {
  const { evtLog, type, id } = source;
  const deletedTo = supportsRetention(evtLog) ? await evtLog.deletedTo(type, id) : 0;
  return deletedTo >= neededFrom ? deletedTo : 0;
}

function reportKey<S, E>(source: RecoverySource<S, E>, record: EvtRecord): void {
  const key = idempotencyKeyOf(record);
  if (key !== undefined) {
    source.onKey?.(key, {
      seqNo: record.seqNo,
      position: record.position,
      recordedAtMs: record.recordedAt.getTime(),
    });
  }
}
