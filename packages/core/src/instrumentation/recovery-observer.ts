/** An entity starts recovering (see `Instrumentation.recoveryStarted`). */
export interface RecoveryStart {
  readonly typeName: string;
  /** For spans and logs only, never a metric attribute. */
  readonly id: string;
  /** `performance.now()` when recovery started. */
  readonly startedAt: number;
}

/** The end of a recovery. */
export interface RecoveryEnd {
  /** True when it succeeded. */
  readonly ok: boolean;
  /** The seqNo recovered to (0 when it failed). */
  readonly seqNo: number;
  /** Events folded after the snapshot (or from the start). */
  readonly events: number;
  /** The seqNo of the snapshot it started from, undefined when it replayed from the first event. */
  readonly snapshotSeqNo: number | undefined;
  readonly durationMs: number;
  /** Why it failed. */
  readonly error?: unknown;
}

/** Follows one recovery (returned by `Instrumentation.recoveryStarted`). */
export interface RecoveryObserver {
  /** Called exactly once. */
  ended(end: RecoveryEnd): void;
}
