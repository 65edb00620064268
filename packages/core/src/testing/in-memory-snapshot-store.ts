import { InvalidArgumentError } from "../errors/index.js";
import type { Snapshot, SnapshotStore } from "../snapshot-store.js";
import { validateSnapshot, validateTypeAndId } from "../validate.js";

/** Options of {@link InMemorySnapshotStore}. */
export interface InMemorySnapshotStoreOptions {
  /** Snapshots kept per entity (the newest). Default 1. */
  readonly history?: number | undefined;
}

/**
 * A SnapshotStore in memory: for unit tests and embedded use. Keeps the `history` snapshots with the
 * highest seqNos per entity.
 */
export class InMemorySnapshotStore implements SnapshotStore {
  readonly history: number;
  // Newest first.
  readonly #snapshots = new Map<string, Snapshot[]>();

  constructor(options: InMemorySnapshotStoreOptions = {}) {
    const history = options.history ?? 1;
    if (!Number.isSafeInteger(history) || history < 1) {
      throw new InvalidArgumentError(`invalid history ${history}: an integer >= 1`);
    }
    this.history = history;
  }

  async save(type: string, id: string, snapshot: Snapshot): Promise<void> {
    validateTypeAndId(type, id);
    validateSnapshot(snapshot);
    const key = `${type}\0${id}`;
    const kept = this.#snapshots.get(key) ?? [];
    const newest = kept[0];
    if (newest !== undefined && newest.seqNo >= snapshot.seqNo) return;
    const copy: Snapshot =
      snapshot.version === undefined
        ? { seqNo: snapshot.seqNo, bytes: snapshot.bytes.slice() }
        : { seqNo: snapshot.seqNo, bytes: snapshot.bytes.slice(), version: snapshot.version };
    this.#snapshots.set(key, [copy, ...kept].slice(0, this.history));
  }

  async load(type: string, id: string): Promise<Snapshot | undefined> {
    validateTypeAndId(type, id);
    return this.#snapshots.get(`${type}\0${id}`)?.[0];
  }

  async loadAll(type: string, id: string): Promise<readonly Snapshot[]> {
    validateTypeAndId(type, id);
    return [...(this.#snapshots.get(`${type}\0${id}`) ?? [])];
  }

  async deleteAll(type: string, id: string): Promise<void> {
    validateTypeAndId(type, id);
    this.#snapshots.delete(`${type}\0${id}`);
  }
}
