/** What is known about the last message of one entity's subject. */
export interface LastMessage {
  /** The entity's last seqNo (first + count - 1 of the message). */
  readonly lastSeqNo: number;
  /** The message's stream sequence: the value for `Nats-Expected-Last-Subject-Sequence`. */
  readonly streamSeq: number;
  /** The epoch the message was written under (`Es-Epoch`), if any: fenced persists check it. */
  readonly epoch?: number | undefined;
}

/**
 * A bounded map subject -> last message, so that a persist usually needs no lookup before publishing.
 *
 * An entry is only a hint and is used only when it matches the persist's expected seqNo: seqNo N of an
 * entity lives in exactly one message, so a matching entry can be out of date (another process appended
 * since) but not wrong, and the server still checks the expected subject sequence on publish.
 */
export class LastMessageCache {
  readonly #entries = new Map<string, LastMessage>();
  readonly #capacity: number;

  /** Keeps at most `capacity` entities (the least recently updated go first); 0 disables the cache. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** What is remembered about the entity at `subject`. */
  get(subject: string): LastMessage | undefined {
    return this.#entries.get(subject);
  }

  /** Remembers the entity's last message, as just acknowledged or read from the server. */
  set(subject: string, last: LastMessage): void {
    // Delete first so that Map insertion order is least-recently-updated order for eviction.
    this.#entries.delete(subject);
    if (this.#capacity <= 0) return;
    this.#entries.set(subject, last);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  /** Drops the entry, e.g. after the server refused its stream sequence. */
  forget(subject: string): void {
    this.#entries.delete(subject);
  }
}
