import { InvalidArgumentError } from "./errors/index.js";
import type { Snapshot } from "./snapshot-store.js";
import { validateSnapshotVersion } from "./validate.js";

/**
 * The format versions of an entity's snapshots: the one it writes and the ones it can read. Bump `current`
 * whenever the state's encoding changes incompatibly; list older versions in `readable` only when
 * `stateFromBytes` (which receives the version) still decodes them.
 */
export interface SnapshotVersioning {
  /** Stored with every snapshot the entity saves. */
  readonly current: string;
  /** Older versions `stateFromBytes` can still decode. Default: none. */
  readonly readable?: readonly string[] | undefined;
  /** Whether snapshots saved without a version (before versions were configured) are decodable. Default false. */
  readonly readUnversioned?: boolean | undefined;
  /**
   * What recovery does with a snapshot of any other version: `"replay"` ignores it (logged as a warning)
   * and starts from an older readable snapshot or from the first event; `"reject"` fails recovery with
   * `SnapshotVersionUnknownError`. Default `"replay"`.
   */
  readonly onUnknown?: "replay" | "reject" | undefined;
}

/** {@link SnapshotVersioning} with defaults applied; without any, only unversioned snapshots are read. */
export interface ResolvedSnapshotVersioning {
  readonly current: string | undefined;
  readonly readable: ReadonlySet<string | undefined>;
  readonly onUnknown: "replay" | "reject";
}

/** Without versioning configured: write no version, read only snapshots without one. */
export const UNVERSIONED: ResolvedSnapshotVersioning = Object.freeze({
  current: undefined,
  readable: new Set<string | undefined>([undefined]),
  onUnknown: "replay",
});

/** Validates the option and applies its defaults (`InvalidArgumentError` naming the field). */
export function resolveSnapshotVersioning(
  versioning: SnapshotVersioning | undefined,
): ResolvedSnapshotVersioning {
  if (versioning === undefined) return UNVERSIONED;
  if (typeof versioning !== "object" || versioning === null) {
    throw new InvalidArgumentError(`snapshotVersion must be an object, got ${String(versioning)}`);
  }
  const { current, readable = [], readUnversioned = false, onUnknown = "replay" } = versioning;
  validateSnapshotVersion(current, "snapshotVersion.current");
  if (!Array.isArray(readable)) {
    throw new InvalidArgumentError("snapshotVersion.readable must be a list of non-empty strings");
  }
  for (const version of readable) validateSnapshotVersion(version, "each of snapshotVersion.readable");
  if (onUnknown !== "replay" && onUnknown !== "reject") {
    throw new InvalidArgumentError(
      `snapshotVersion.onUnknown must be "replay" or "reject", got ${String(onUnknown)}`,
    );
  }
  const set = new Set<string | undefined>([current, ...readable]);
  if (readUnversioned) set.add(undefined);
  return Object.freeze({ current, readable: set, onUnknown });
}

/** True when the code can decode `snapshot` (its version is readable). */
export function isReadableSnapshot(snapshot: Snapshot, versioning: ResolvedSnapshotVersioning): boolean {
  return versioning.readable.has(snapshot.version);
}
