/**
 * What happened to a lease (see `Instrumentation.lease`): `"acquired"`, `"released"` (given back), `"lost"`
 * (its deadline passed or a renewal was refused) or `"fenced"` (a write under it was refused because a
 * newer tenure exists: a projection checkpoint, an entity's persist).
 */
export type LeaseEventKind = "acquired" | "released" | "lost" | "fenced";

/** A lease event (see `Instrumentation.lease`). */
export interface LeaseEvent {
  readonly event: LeaseEventKind;
  /** The lease key (`projection.<name>`, a shard...). */
  readonly key: string;
  /** The tenure's epoch (fencing token), when known. */
  readonly epoch: number | undefined;
  /** For `"lost"`: why (`"deadline-passed"`, `"renewal-refused"`). */
  readonly reason?: string | undefined;
}
