import type { EvtLog, SnapshotStore, TypeHead } from "@eventsourced/core";
import type { ProjectionRow, ProjectionStore } from "@eventsourced/projections";

/** One versioned part of the store (a table set, a stream, a bucket) and whether it is up to date. */
export interface SchemaComponent {
  /** `evtlog:events`, `snapshots:snapshots`, `projections:projections`, `stream:<name>`, `kv:<bucket>`. */
  readonly component: string;
  /** Version found in the database; 0 when missing. On NATS 1 when the stream or bucket exists. */
  readonly version: number;
  /** Version this CLI's packages write. */
  readonly expected: number;
  readonly state: "up-to-date" | "missing" | "behind" | "newer";
}

/** An event log that can list the entities of a type (both adapters can). */
export interface ListingEvtLog extends EvtLog {
  entityIds(
    type: string,
    options?: { after?: string | undefined; limit?: number | undefined },
  ): Promise<string[]>;
  headOfType(type: string): Promise<TypeHead | undefined>;
}

/** A snapshot store with the optional parts the CLI needs (both adapters have them). */
export interface AdminSnapshotStore extends SnapshotStore {
  loadAll(type: string, id: string): Promise<readonly import("@eventsourced/core").Snapshot[]>;
  deleteAll(type: string, id: string): Promise<void>;
}

/** A projection store that can list its projections (both adapters can). */
export interface ListingProjectionStore extends ProjectionStore {
  list(): Promise<ProjectionRow[]>;
}

/**
 * What the commands need from a backend (PostgreSQL or NATS), opened lazily: a command that only reads
 * projections never opens the event log. Reads never create anything: a missing table, stream or bucket is
 * an `AdminCommandError` pointing at `eventsourced schema migrate`.
 */
export interface AdminBackend {
  /** Where, safe to print: `PostgreSQL at postgres://app:***@db/app, schema app`. */
  readonly where: string;
  schemaStatus(): Promise<SchemaComponent[]>;
  /** Creates or upgrades everything (idempotent), then returns the status. */
  migrate(): Promise<SchemaComponent[]>;
  evtLog(): Promise<ListingEvtLog>;
  snapshotStore(): Promise<AdminSnapshotStore>;
  projectionStore(): Promise<ListingProjectionStore>;
  close(): Promise<void>;
}

/** How a component's version compares with what the code writes. */
export function componentState(version: number, expected: number): SchemaComponent["state"] {
  if (version === 0) return "missing";
  if (version < expected) return "behind";
  return version > expected ? "newer" : "up-to-date";
}
