import type { EvtRecord } from "./evt-log.js";

/** The event header that carries a command's idempotency key (on the last event the command emitted). */
export const IDEMPOTENCY_KEY_HEADER = "es-idempotency-key";

/** Where a command with an idempotency key ended up. */
export interface AppliedKey {
  /** The entity's seqNo after the command (the seqNo of its last event). */
  readonly seqNo: number;
  /** The log position of that event, when known. */
  readonly position: number | undefined;
  /** When the log recorded it (milliseconds since the epoch). */
  readonly recordedAtMs: number;
}

/** How many keys an entity remembers, and for how long. */
export interface IdempotencyWindowOptions {
  /** Most keys remembered per entity; the oldest is forgotten first. Default 1,000. */
  readonly maxKeys?: number | undefined;
  /** Keys whose command was recorded longer ago than this are forgotten. Default: no age limit. */
  readonly maxAgeMs?: number | undefined;
}

/** The idempotency key stored with `record`, if it carries one. */
export function idempotencyKeyOf(record: Pick<EvtRecord, "metadata">): string | undefined {
  return record.metadata?.headers?.[IDEMPOTENCY_KEY_HEADER];
}

/**
 * The idempotency keys of an entity's recent commands, in the order they were applied. Fed by every event
 * the entity folds (recovery, re-synchronisation after another writer, its own commands), so a key applied
 * by another process is found once the entity has caught up with the log. Bounded by count and age.
 */
export class IdempotencyWindow {
  readonly #maxKeys: number;
  readonly #maxAgeMs: number;
  // Insertion order is application order: the first entry is the oldest.
  readonly #keys = new Map<string, AppliedKey>();

  constructor(maxKeys: number, maxAgeMs: number) {
    this.#maxKeys = maxKeys;
    this.#maxAgeMs = maxAgeMs;
  }

  get size(): number {
    return this.#keys.size;
  }

  /** Where the command with `key` ended up, unless it is unknown or outside the window. */
  find(key: string, nowMs: number): AppliedKey | undefined {
    this.#expire(nowMs);
    return this.#keys.get(key);
  }

  /** Remembers that the command with `key` was applied. */
  record(key: string, applied: AppliedKey): void {
    this.#keys.delete(key);
    this.#keys.set(key, applied);
    if (this.#keys.size > this.#maxKeys) {
      const oldest = this.#keys.keys().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
  }

  #expire(nowMs: number): void {
    if (this.#maxAgeMs === Number.POSITIVE_INFINITY) return;
    for (const [key, applied] of this.#keys) {
      if (nowMs - applied.recordedAtMs <= this.#maxAgeMs) return;
      this.#keys.delete(key);
    }
  }
}
