import type { Snapshot, SnapshotStore } from "../snapshot-store.js";
import { validateTypeAndId } from "../validate.js";

/** A SnapshotStore in memory: for unit tests and embedded use. Keeps the snapshot with the highest seqNo. */
export class InMemorySnapshotStore implements SnapshotStore {
  readonly #snapshots = new Map<string, Snapshot>();

  async save(type: string, id: string, snapshot: Snapshot): Promise<void> {
    validateTypeAndId(type, id);
    const key = `${type}\0${id}`;
    const current = this.#snapshots.get(key);
    if (current === undefined || current.seqNo < snapshot.seqNo) {
      this.#snapshots.set(key, { seqNo: snapshot.seqNo, bytes: snapshot.bytes.slice() });
    }
  }

  async load(type: string, id: string): Promise<Snapshot | undefined> {
    validateTypeAndId(type, id);
    return this.#snapshots.get(`${type}\0${id}`);
  }
}
