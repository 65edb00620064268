import type { EvtLog } from "./evt-log.js";

/** What {@link EvtLogRetention.deleteEvts} did. */
export interface EvtsDeleted {
  /**
   * The highest seqNo the log no longer has, after this call: every event up to it is gone, every event
   * after it is still there. At most the `toSeqNo` asked for, and below the entity's last seqNo on a log
   * that keeps the last event (NATS keeps the entity's last message).
   */
  readonly deletedTo: number;
  /** Events (PostgreSQL) or messages (NATS) this call removed; 0 when there was nothing left to remove. */
  readonly removed: number;
}

/**
 * Deleting an entity's old events: the optional capability of an {@link EvtLog} that retention and entity
 * deletion need (`InMemoryEvtLog`, `PostgresEvtLog` and `NatsEvtLog` have it; see {@link supportsRetention}).
 *
 * **Never rewind**: deleting events never lowers the entity's last seqNo. After deleting everything,
 * `lastSeqNo` still reports the old last seqNo, a persist expecting it succeeds and one expecting 0
 * conflicts; only {@link EvtLogRetention.resetEntity} starts an entity over.
 */
export interface EvtLogRetention {
  /**
   * Deletes the entity's events with seqNo <= `toSeqNo` (capped at its last seqNo). Idempotent and safe
   * to run concurrently with persists and with itself (from any process): it only ever deletes a prefix of
   * the history. A log may keep some of those events (NATS deletes whole messages and always keeps the
   * last one); the result says how far deletion reached. Callers bound the work per call by `toSeqNo`.
   */
  deleteEvts(type: string, id: string, toSeqNo: number): Promise<EvtsDeleted>;
  /** The highest seqNo of the entity the log no longer has (0 when nothing was deleted). */
  deletedTo(type: string, id: string): Promise<number>;
  /**
   * Deletes the entity completely, its head included, so that its seqNos start over at 1: only when its
   * last seqNo is still `expectedLastSeqNo` (else `SeqNoConflictError`, nothing deleted). Stop the entity
   * everywhere first: a running instance would find its history gone. Deletes the whole history in one
   * operation, so delete the events in bounded steps with `deleteEvts` first (as `deleteEntity` does).
   */
  resetEntity(type: string, id: string, expectedLastSeqNo: number): Promise<void>;
}

/** True when `log` can delete events (implements {@link EvtLogRetention}). */
export function supportsRetention(log: EvtLog): log is EvtLog & EvtLogRetention {
  const candidate = log as Partial<EvtLogRetention>;
  return (
    typeof candidate.deleteEvts === "function" &&
    typeof candidate.deletedTo === "function" &&
    typeof candidate.resetEntity === "function"
  );
}
