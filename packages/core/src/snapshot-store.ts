/** A snapshot of an entity's state as of `seqNo`. */
export interface Snapshot {
  readonly seqNo: number;
  readonly bytes: Uint8Array;
}

/**
 * Stores the latest snapshot per `(type, id)`. Adapters prove it with `describeSnapshotStoreContract`
 * from `@eventsourced/core/testing/vitest`.
 */
export interface SnapshotStore {
  /** Saves `snapshot` unless a snapshot with a higher seqNo is already stored (that one is kept). */
  save(type: string, id: string, snapshot: Snapshot): Promise<void>;
  /** The stored snapshot, or `undefined`. */
  load(type: string, id: string): Promise<Snapshot | undefined>;
}
