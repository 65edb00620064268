import type { NewEvt } from "@eventsourced/core";
import { InlineProjectionRejectedError } from "../errors.js";
import type { EvtDecoder, ProjectedEvt } from "../projected-evt.js";
import type { PgClientLike } from "./pg-like.js";

/** A persist written but not yet committed, as `PostgresEvtLog` hands it to its `inTransaction` hook. */
export interface WrittenPersistLike {
  readonly type: string;
  readonly id: string;
  readonly expected: number;
  readonly evts: readonly NewEvt[];
  readonly lastPosition: number;
}

/** The `inTransaction` hook of `PostgresEvtLog` (structurally its `PersistHook`). */
export type InlineProjectionsHook = (
  client: PgClientLike,
  persists: readonly WrittenPersistLike[],
) => Promise<void>;

/** Options of {@link inlineProjection}. */
export interface InlineProjectionOptions<E> {
  /** Names the projection in errors. */
  readonly name: string;
  /** The entity type whose events it sees. */
  readonly type: string;
  readonly binarizer: EvtDecoder<E>;
  /**
   * Runs in the persist's transaction with the events of a group-commit batch (in position order). Throwing
   * (a unique violation, a rule of your own) fails the persist: nothing of it is written and its command gets
   * `InlineProjectionRejectedError`; the other persists of the batch are written without it.
   */
  handle(evts: readonly ProjectedEvt<E>[], tx: PgClientLike): Promise<void>;
}

/** One inline projection, ready for {@link inlineProjections}. */
export interface InlineProjection {
  readonly name: string;
  readonly type: string;
  /** Applies one group-commit batch's written persists of `type` inside its transaction. */
  run(client: PgClientLike, persists: readonly WrittenPersistLike[]): Promise<void>;
}

/**
 * A view kept in the same transaction as the events (evented's `EventListener`, Emmett's inline
 * projections): consistent with the write, at the cost of running on the write path.
 * @example
 * const emails = inlineProjection({ name: "user-emails", type: "user", binarizer, handle: (evts, tx) => ... });
 * const log = await PostgresEvtLog.create({ pool, inTransaction: inlineProjections(emails) });
 */
export function inlineProjection<E>(options: InlineProjectionOptions<E>): InlineProjection {
  const { name, type, binarizer } = options;
  return {
    name,
    type,
    async run(client, persists) {
      const mine = persists.filter((p) => p.type === type);
      if (mine.length === 0) return;
      const alone = persists.length === 1;
      const recordedAt = new Date();
      try {
        const evts: ProjectedEvt<E>[] = [];
        for (const p of mine) {
          const first = p.lastPosition - p.evts.length + 1;
          p.evts.forEach((e, i) => {
            evts.push({
              type,
              id: p.id,
              seqNo: p.expected + i + 1,
              position: first + i,
              recordedAt,
              metadata: e.metadata,
              contentType: e.contentType,
              evt: binarizer.evtFromBytes(e.bytes, e.contentType),
              bytes: e.bytes,
            });
          });
        }
        await options.handle(evts, client);
      } catch (cause) {
        // Alone, the persist is known: it gets the typed rejection. In a batch, the log retries each persist
        // in a transaction of its own, which finds the one to blame.
        if (alone) throw new InlineProjectionRejectedError(name, type, mine[0]!.id, { cause });
        throw cause;
      }
    },
  };
}

/**
 * The `inTransaction` hook for `PostgresEvtLog` running `projections` in order. `recordedAt` of the events it
 * hands over is this process's clock at the time of the write (the row's own time is set by the database).
 */
export function inlineProjections(...projections: readonly InlineProjection[]): InlineProjectionsHook {
  return async (client, persists) => {
    for (const projection of projections) await projection.run(client, persists);
  };
}
