import type { EvtLog, Snapshot, SnapshotStore, TypeHead } from "@eventsourced/core";
import type { ProjectionRow, ProjectionStore } from "@eventsourced/projections";
import { AdminCommandError } from "../cli-errors.js";

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
  /** Ids of the entities of `type`, ascending, a page at a time. */
  entityIds(
    type: string,
    options?: { after?: string | undefined; limit?: number | undefined },
  ): Promise<string[]>;
  /** The position and time of the type's last event. */
  headOfType(type: string): Promise<TypeHead | undefined>;
}

/** A snapshot store with the optional parts the CLI needs (both adapters have them). */
export interface AdminSnapshotStore extends SnapshotStore {
  /** Every kept snapshot of the entity, newest first. */
  loadAll(type: string, id: string): Promise<readonly Snapshot[]>;
  /** Deletes every snapshot of the entity. */
  deleteAll(type: string, id: string): Promise<void>;
}

/** A projection store that can list its projections (both adapters can). */
export interface ListingProjectionStore extends ProjectionStore {
  /** Every projection's row, by name. */
  list(): Promise<ProjectionRow[]>;
}

/**
 * What the `cluster` commands need of a cluster store: `ClusterStoreInspector` of `@eventsourced/cluster`,
 * described here because that package is an optional peer of the CLI.
 */
export interface AdminClusterStore {
  /** Where it reads, safe to print. */
  readonly where: string;
  /** The recorded shard function (`config` undefined and `problem` set when malformed), or undefined. */
  shardFunction(cluster: string): Promise<
    | {
        readonly value: unknown;
        readonly config: { readonly shardCount: number; readonly hash: string } | undefined;
        readonly problem?: string | undefined;
      }
    | undefined
  >;
  /** The live members of every entity type, sorted. */
  liveMembers(cluster: string): Promise<Array<{ readonly type: string; readonly member: string }>>;
  /** Removes the recorded shard function; whether there was one. */
  forgetShardFunction(cluster: string): Promise<boolean>;
}

/**
 * What the commands need from a backend (PostgreSQL or NATS), opened lazily: a command that only reads
 * projections never opens the event log. Reads never create anything: a missing table, stream or bucket is
 * an `AdminCommandError` pointing at `eventsourced schema migrate`.
 */
export interface AdminBackend {
  /** Where, safe to print: `PostgreSQL at postgres://app:***@db/app, schema app`. */
  readonly where: string;
  /** Each component's version against the code's; reads only. */
  schemaStatus(): Promise<SchemaComponent[]>;
  /** Creates or upgrades everything (idempotent), then returns the status. */
  migrate(): Promise<SchemaComponent[]>;
  /** The event log, opened without setup; refused when its tables or stream are missing. */
  evtLog(): Promise<ListingEvtLog>;
  /** The snapshot store, opened without setup; refused when its table or bucket is missing. */
  snapshotStore(): Promise<AdminSnapshotStore>;
  /** The projection store, opened without setup; refused when its tables or bucket are missing. */
  projectionStore(): Promise<ListingProjectionStore>;
  /**
   * The cluster store (`@eventsourced/cluster`, loaded on first use): on PostgreSQL its tables in the
   * schema, on NATS its buckets named by `bucketPrefix`. Creates nothing.
   */
  clusterStore(bucketPrefix: string | undefined): Promise<AdminClusterStore>;
  /** Closes whatever was opened. */
  close(): Promise<void>;
}

/** How a component's version compares with what the code writes. */
export function componentState(version: number, expected: number): SchemaComponent["state"] {
  if (version === 0) return "missing";
  if (version < expected) return "behind";
  return version > expected ? "newer" : "up-to-date";
}

/** `@eventsourced/cluster` (and its `postgres` entry), which the CLI needs only for its `cluster` commands. */
export async function importCluster<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    if ((cause as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND") {
      throw new AdminCommandError(
        "the cluster commands need the package @eventsourced/cluster: install it beside @eventsourced/cli",
        { cause },
      );
    }
    throw cause;
  }
}
