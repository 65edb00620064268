import { DecodeError, SnapshotVersionUnknownError } from "./errors/index.js";
import type { Recovered, RecoverySource } from "./recovery.js";
import { isReadableSnapshot, UNVERSIONED } from "./snapshot-versioning.js";

/**
 * Where recovery starts: the latest snapshot when its version is readable; otherwise (versioning says
 * replay) the newest readable older one the store kept, or the initial state.
 */
export async function snapshotStart<S, E>(
  source: RecoverySource<S, E>,
  signal?: AbortSignal,
): Promise<Recovered<S>> {
  const { type, id, snapshotStore } = source;
  const initial: Recovered<S> = { state: source.definition.initialState(id), seqNo: 0 };
  if (snapshotStore === undefined) return initial;
  let snapshot = await snapshotStore.load(type, id);
  signal?.throwIfAborted();
  if (snapshot === undefined) return initial;
  const versioning = source.versioning ?? UNVERSIONED;
  if (!isReadableSnapshot(snapshot, versioning)) {
    if (versioning.onUnknown === "reject") {
      throw new SnapshotVersionUnknownError(type, id, snapshot.seqNo, snapshot.version);
    }
    const latest = snapshot;
    const older = (await snapshotStore.loadAll?.(type, id)) ?? [];
    signal?.throwIfAborted();
    snapshot = older.find((s) => s.seqNo < latest.seqNo && isReadableSnapshot(s, versioning));
    source.logger?.warn(
      snapshot === undefined
        ? "snapshot version unknown to this code; recovering from the events"
        : "snapshot version unknown to this code; recovering from an older snapshot",
      { type, id, seqNo: latest.seqNo, version: latest.version, fallbackSeqNo: snapshot?.seqNo },
    );
    if (snapshot === undefined) return initial;
  }
  let state: S;
  try {
    state = source.binarizer.stateFromBytes(snapshot.bytes, snapshot.version);
  } catch (cause) {
    throw new DecodeError("snapshot", type, id, snapshot.seqNo, { cause });
  }
  return { state, seqNo: snapshot.seqNo };
}
