import type { EvtMetadata } from "../evt-log.js";

/** A command an entity starts handling (see `Instrumentation.commandStarted`). */
export interface CommandStart {
  /** The entity type. */
  readonly typeName: string;
  /** The entity id: for spans and logs only, never a metric attribute (ids are often personal data). */
  readonly id: string;
  /** The command's `type` field when it is a string (the per-command form always has one), else undefined. */
  readonly cmdType: string | undefined;
  /** The metadata the caller gave (`HandleCmdOptions.metadata`): a routed command's trace context is here. */
  readonly metadata: EvtMetadata | undefined;
  /** The entity's seqNo when the command started. */
  readonly seqNo: number;
}

/** How a command ended: accepted (with or without events), rejected, a duplicate, or failed (an error). */
export type CommandOutcome = "accepted" | "rejected" | "duplicate" | "failed";

/** The end of a command (see {@link CommandObserver.ended}). */
export interface CommandEnd {
  readonly outcome: CommandOutcome;
  /** The entity's seqNo after the command (for `"failed"`, the seqNo it had). */
  readonly seqNo: number;
  /** Events the command persisted (0 unless accepted with events). */
  readonly events: number;
  /** Milliseconds from the command's arrival to its answer (0 for an observer with `timed: false`). */
  readonly durationMs: number;
  /** What the caller got, for `"failed"`. */
  readonly error?: unknown;
}

/** One `EvtLog.persist` of a command's events (each conflict retry is another one). */
export interface PersistBatch {
  /** Events written (or attempted) together. */
  readonly size: number;
  /** `performance.now()` when the persist was sent. */
  readonly startedAt: number;
  /** Milliseconds until the log answered. */
  readonly durationMs: number;
  /** The log position of the last event, when it succeeded. */
  readonly position: number | undefined;
  /** Why it failed (a conflict, a refused or failed write), when it did. */
  readonly error?: unknown;
}

/** Follows one command (returned by `Instrumentation.commandStarted`). */
export interface CommandObserver {
  /**
   * Headers merged into the metadata of every event the command emits, such as the W3C `traceparent` of
   * its span, so that readers of the events (projections) can link back to it. Read once per persist;
   * they replace the command's metadata headers of the same name (a `traceparent` the caller passed is
   * the parent of the command's span, not of its events).
   */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * `false` when the observer reads no duration (it only counts): the runtime then reads no clock for the
   * command and reports `durationMs` 0. Default true.
   */
  readonly timed?: boolean | undefined;
  /** A persist of the command's events answered (successfully or not). */
  persisted?(batch: PersistBatch): void;
  /** The command was answered. Called exactly once. */
  ended(end: CommandEnd): void;
}
