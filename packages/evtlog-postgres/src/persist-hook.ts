import { isEventSourcedError, type NewEvt, PersistError } from "@eventsourced/core";
import { describe, type PendingPersist } from "./pending-persist.js";
import type { PgClientLike } from "./pg-pool-like.js";
import type { BatchResult } from "./run-batch-statement.js";

/** A persist written by a batch whose transaction has not committed yet. */
export interface WrittenPersist {
  readonly type: string;
  readonly id: string;
  /** The entity's last seqNo before the persist: its events have seqNos `expected + 1 ..`. */
  readonly expected: number;
  readonly evts: readonly NewEvt[];
  /** Position of the persist's last event (its events have consecutive positions). */
  readonly lastPosition: number;
}

/**
 * Called with the persists a batch wrote, on the batch's connection inside its transaction, before it commits
 * (PostgresEvtLogOptions.inTransaction). If it throws, nothing of the batch is committed and each of its
 * persists is written again in a transaction of its own (with the hook): only the persist whose hook call
 * throws fails, with the hook's error when it is an eventsourced error, else a `PersistError`.
 */
export type PersistHook = (client: PgClientLike, persists: readonly WrittenPersist[]) => Promise<void>;

/** The hook refused a batch: nothing was committed. */
export class HookRefused {
  constructor(readonly cause: unknown) {}
}

/** Calls the hook with the batch's winners; its failure comes back as `HookRefused`. */
export async function runHook(
  client: PgClientLike,
  hook: PersistHook,
  batch: readonly PendingPersist[],
  result: BatchResult,
): Promise<void> {
  const written = result.won.map((index, i) => {
    const p = batch[index]!;
    return {
      type: p.type,
      id: p.id,
      expected: p.expected,
      evts: p.evts,
      lastPosition: Number(result.positions[i]),
    };
  });
  if (written.length === 0) return;
  try {
    await hook(client, written);
  } catch (err) {
    throw new HookRefused(err);
  }
}

/** What a persist refused by the hook rejects with: its typed error as is, anything else as a known failure. */
export function hookError(p: PendingPersist, err: unknown): Error {
  if (isEventSourcedError(err)) return err;
  return new PersistError(
    `cannot persist ${describe(p)}: the in-transaction hook refused it; nothing was written`,
    false,
    { cause: err },
  );
}
