/** A snapshot of an entity's state as of `seqNo`. */
export interface Snapshot {
  readonly seqNo: number;
  readonly bytes: Uint8Array;
  /**
   * The format version of `bytes`, as the entity's `snapshotVersion.current` wrote it; undefined for
   * snapshots saved without one (including every snapshot saved before versions existed). Recovery
   * decodes only versions the code lists as readable (see `SnapshotVersioning`).
   */
  readonly version?: string | undefined;
}

/**
 * Stores snapshots per `(type, id)`: the latest one, and optionally a short history of older ones (see
 * {@link SnapshotStore.history}). Adapters prove it with `describeSnapshotStoreContract` from
 * `@eventsourced/core/testing/vitest`.
 */
export interface SnapshotStore {
  /**
   * Saves `snapshot` (with its version) unless a snapshot with a higher seqNo is already stored (that one
   * is kept). A store with a history keeps the newest `history` snapshots and drops older ones.
   */
  save(type: string, id: string, snapshot: Snapshot): Promise<void>;
  /** The stored snapshot with the highest seqNo, or `undefined`. */
  load(type: string, id: string): Promise<Snapshot | undefined>;
  /**
   * How many snapshots per entity the store keeps (the newest ones); 1 when omitted. Retention's
   * `keepSnapshots` needs at least that many.
   */
  readonly history?: number | undefined;
  /**
   * Every kept snapshot of the entity, newest (highest seqNo) first. Optional: recovery uses it to fall
   * back to an older snapshot when the newest has a version the code cannot read; without it there is
   * nothing to fall back to and recovery replays the events instead.
   */
  loadAll?(type: string, id: string): Promise<readonly Snapshot[]>;
  /**
   * Deletes every snapshot of the entity (entity deletion: a snapshot holds the entity's data too).
   * Optional; `deleteEntity` refuses a store without it.
   */
  deleteAll?(type: string, id: string): Promise<void>;
}
