import type { EvtLog } from "../evt-log.js";

/** An event log to probe (see `HealthCheckOptions.evtLogs`). */
export interface HealthEvtLog {
  /** How the report names it (`"postgres"`, `"nats"`...). */
  readonly name: string;
  /** Probed with one `lastSeqNo` lookup of an entity that does not exist. */
  readonly evtLog: Pick<EvtLog, "lastSeqNo">;
}

/**
 * A projection to report (structurally a `Projection` of `@eventsourced/projections`): its state and its
 * lag behind the log's head.
 */
export interface HealthProjection {
  readonly name: string;
  readonly status: { readonly state: string; readonly error?: Error | undefined };
  /** How far behind the log's head it is (`Projection.lag()`). */
  lag(): Promise<{ readonly events: number; readonly ms: number | undefined }>;
}

/** Leases held by this process (structurally a `LeaseKeeper` of `@eventsourced/leases`). */
export interface HealthLeaseHolder {
  readonly owner: string;
  /** The leases held now. */
  readonly held: readonly { readonly key: string; readonly epoch: number }[];
}
