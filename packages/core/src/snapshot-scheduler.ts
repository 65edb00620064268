import type { Binarizer } from "./binarizer.js";
import type { SnapshotPolicy } from "./entity-ref.js";
import type { Logger } from "./logger.js";
import type { SnapshotStore } from "./snapshot-store.js";

/**
 * True when a command that moved the entity from `oldSeqNo` to `newSeqNo` calls for a snapshot. A number
 * `n` triggers when the seqNo crosses a multiple of n, so a command emitting several events cannot jump
 * over it.
 */
export function snapshotDue<S>(
  policy: SnapshotPolicy<S>,
  state: S,
  oldSeqNo: number,
  newSeqNo: number,
): boolean {
  return typeof policy === "number"
    ? Math.floor(oldSeqNo / policy) < Math.floor(newSeqNo / policy)
    : policy(state, newSeqNo);
}

/**
 * Saves an entity's snapshots one at a time, in seqNo order, off the reply path.
 *
 * While a save is in flight at most one more snapshot waits; a newer one replaces it (saving every
 * intermediate state of a busy entity would only delay the newest). Since saves never run concurrently and
 * the waiting one is only ever replaced by a newer one, an older snapshot can never overwrite a newer one.
 * Failures (of the policy, the encoding or the save) are logged and counted, never thrown: the log is the
 * truth, a snapshot only shortens recovery.
 */
export class SnapshotScheduler<S> {
  readonly #type: string;
  readonly #id: string;
  readonly #store: SnapshotStore;
  readonly #binarizer: Pick<Binarizer<unknown, S>, "stateToBytes">;
  readonly #logger: Logger;
  readonly #policy: SnapshotPolicy<S>;
  readonly #version: string | undefined;
  readonly #onSaved: ((seqNo: number) => void) | undefined;
  #saved = 0;
  #failed = 0;
  #hasPending = false;
  #pendingState: S | undefined;
  // The highest seqNo ever offered: offers never go backwards.
  #pendingSeqNo = 0;
  #running: Promise<void> | undefined;

  constructor(
    type: string,
    id: string,
    store: SnapshotStore,
    binarizer: Pick<Binarizer<unknown, S>, "stateToBytes">,
    policy: SnapshotPolicy<S>,
    logger: Logger,
    version?: string | undefined,
    onSaved?: ((seqNo: number) => void) | undefined,
  ) {
    this.#type = type;
    this.#id = id;
    this.#store = store;
    this.#binarizer = binarizer;
    this.#policy = policy;
    this.#logger = logger;
    this.#version = version;
    this.#onSaved = onSaved;
  }

  /** Snapshots saved. */
  get saved(): number {
    return this.#saved;
  }

  /** Snapshots not taken or not saved: the policy threw, encoding or the save failed. */
  get failed(): number {
    return this.#failed;
  }

  /** After a command moved the entity from `oldSeqNo` to `newSeqNo`: offers a snapshot when one is due. */
  consider(state: S, oldSeqNo: number, newSeqNo: number): void {
    let due: boolean;
    try {
      due = snapshotDue(this.#policy, state, oldSeqNo, newSeqNo);
    } catch (error) {
      this.#failed++;
      this.#logger.warn("snapshot policy threw; no snapshot taken", {
        type: this.#type,
        id: this.#id,
        seqNo: newSeqNo,
        error,
      });
      return;
    }
    if (due) this.offer(state, newSeqNo);
  }

  /** Schedules a snapshot of `state` as of `seqNo`; returns at once. */
  offer(state: S, seqNo: number): void {
    if (seqNo <= this.#pendingSeqNo) return;
    this.#hasPending = true;
    this.#pendingState = state;
    this.#pendingSeqNo = seqNo;
    // Started from the next event-loop turn, so that encoding never runs before the reply that triggered it
    // has been delivered to its caller.
    this.#running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#run());
  }

  /** Resolves when no save is in flight or pending. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #run(): Promise<void> {
    try {
      while (this.#hasPending) {
        const state = this.#pendingState as S;
        const seqNo = this.#pendingSeqNo;
        this.#hasPending = false;
        this.#pendingState = undefined;
        try {
          const bytes = this.#binarizer.stateToBytes(state);
          await this.#store.save(
            this.#type,
            this.#id,
            this.#version === undefined ? { seqNo, bytes } : { seqNo, bytes, version: this.#version },
          );
          this.#saved++;
          this.#onSaved?.(seqNo);
        } catch (error) {
          this.#failed++;
          this.#logger.warn("snapshot save failed; recovery replays more events until the next one", {
            type: this.#type,
            id: this.#id,
            seqNo,
            error,
          });
        }
      }
    } finally {
      // Whatever happened above, `idle()` (and with it the entity's stop) must not wait forever.
      this.#running = undefined;
    }
  }
}
