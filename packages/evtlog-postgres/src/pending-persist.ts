import type { NewEvt, Persisted } from "@eventsourced/core";
import type { PersistFence } from "./persist-fence.js";

/** One persist waiting for its batch. */
export interface PendingPersist {
  readonly type: string;
  readonly id: string;
  readonly expected: number;
  readonly evts: readonly NewEvt[];
  /** Strict fencing: written only under this live lease tenure (see `persist-fence.ts`). */
  readonly fence?: PersistFence | undefined;
  resolve(persisted: Persisted): void;
  reject(err: Error): void;
}

/** `type/"id"` of a persist, for error messages. */
export function describe(p: PendingPersist): string {
  return `${p.type}/${JSON.stringify(p.id)}`;
}

/** The message of a thrown value. */
export function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The key of a persist's entity (`type\0id`), for sets of entities with a persist under way. */
export function entityKey(p: { readonly type: string; readonly id: string }): string {
  return `${p.type}\u0000${p.id}`;
}
